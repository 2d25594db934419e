import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readFunctionTimeout } from '../../local/settings';
import { startInProcessEngine, type InProcessEngine } from '../helpers/inProcessEngine';

const appRoot = path.join(__dirname, '..', 'fixtures', 'durableApp');
let harness: InProcessEngine;

beforeAll(async () => {
  harness = await startInProcessEngine(appRoot, { functionTimeoutInMilliseconds: 200 });
});

afterAll(async () => {
  await harness.close();
});

test('activity over functionTimeout fails with timeout', async () => {
  const started = await harness.engine.startOrchestration('callSlowActivity', undefined, 1_000);
  const status = await harness.engine.waitForCompletion(started.instanceId, 10_000);

  expect(status?.runtimeStatus).toBe('Completed');
  expect(status?.output).toContain('timed out after 200 ms');
});

test('activity under functionTimeout succeeds', async () => {
  const started = await harness.engine.startOrchestration('callSlowActivity', undefined, 10);
  const status = await harness.engine.waitForCompletion(started.instanceId, 10_000);

  expect(status?.output).toBe('slept 10 ms');
});

test('late activity result is discarded', async () => {
  const started = await harness.engine.startOrchestration('callSlowActivity', undefined, 400);
  const status = await harness.engine.waitForCompletion(started.instanceId, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 400));

  const history = harness.engine.getStatus(started.instanceId, { showHistory: true })?.historyEvents ?? [];
  expect(status?.output).toContain('timed out');
  expect(history.filter((event) => event.EventType === 'TaskCompleted')).toHaveLength(0);
});

test.each([
  ['00:05:00', 300_000],
  ['1.00:00:00', 86_400_000],
  ['00:00:01.5', 1_500],
])('functionTimeout %s is %d ms', (value, expected) => {
  expect(readFunctionTimeout(value, 'host.json')).toBe(expected);
});

test('functionTimeout -1 means no limit', () => {
  expect(readFunctionTimeout('-1', 'host.json')).toBeUndefined();
});

test('invalid functionTimeout names the value', () => {
  expect(() => readFunctionTimeout('5 minutes', 'host.json')).toThrow('host.json functionTimeout must be a time span like "00:05:00" ([d.]hh:mm:ss) or "-1", but it is "5 minutes".');
});
