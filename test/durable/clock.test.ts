import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Clock } from '../../local/durable/clock';
import { startInProcessEngine, type InProcessEngine } from '../helpers/inProcessEngine';

/** A clock that does not move until a test advances it. */
class ManualClock implements Clock {
  #nowInMilliseconds = Date.parse('2026-01-01T00:00:00Z');

  nowInMilliseconds(): number {
    return this.#nowInMilliseconds;
  }

  advance(milliseconds: number): void {
    this.#nowInMilliseconds += milliseconds;
  }
}

const appRoot = path.join(__dirname, '..', 'fixtures', 'durableApp');
const hourInMilliseconds = 3_600_000;
const clock = new ManualClock();
let harness: InProcessEngine;

beforeAll(async () => {
  harness = await startInProcessEngine(appRoot, { clock });
});

afterAll(async () => {
  await harness.close();
});

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 100));
}

test('30-day timer fires when the clock reaches it', async () => {
  const { instanceId } = await harness.engine.startOrchestration('durableTimer', undefined, 30 * 24 * hourInMilliseconds);
  await settle();
  expect(harness.engine.getStatus(instanceId)?.runtimeStatus).toBe('Running');

  clock.advance(30 * 24 * hourInMilliseconds - 1_000);
  harness.engine.wake();
  await settle();
  expect(harness.engine.getStatus(instanceId)?.runtimeStatus).toBe('Running');

  clock.advance(1_000);
  harness.engine.wake();
  const status = await harness.engine.waitForCompletion(instanceId, 5_000);
  expect(status?.output).toBe('timer fired');
});

test('hourly retry schedule follows the clock', async () => {
  const { instanceId } = await harness.engine.startOrchestration('hourlyRetry', undefined, 'clock-retry');
  await settle();
  expect(harness.engine.getStatus(instanceId)?.runtimeStatus).toBe('Running');

  clock.advance(hourInMilliseconds);
  harness.engine.wake();
  await settle();
  expect(harness.engine.getStatus(instanceId)?.runtimeStatus).toBe('Running');

  clock.advance(hourInMilliseconds);
  harness.engine.wake();
  const status = await harness.engine.waitForCompletion(instanceId, 5_000);
  expect(status?.output).toBe(3);
});
