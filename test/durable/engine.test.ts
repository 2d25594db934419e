import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startInProcessEngine, type InProcessEngine } from '../helpers/inProcessEngine';

const appRoot = path.join(__dirname, '..', 'fixtures', 'durableApp');
let harness: InProcessEngine;

beforeAll(async () => {
  harness = await startInProcessEngine(appRoot);
});

afterAll(async () => {
  await harness.close();
});

async function run(name: string, input: unknown, instanceId?: string) {
  const started = await harness.engine.startOrchestration(name, instanceId, input);
  expect(started.created).toBe(true);
  const status = await harness.engine.waitForCompletion(started.instanceId, 20_000);
  return status!;
}

describe('durable engine', () => {
  test('sequence of activities', async () => {
    const status = await run('sequence', ['Tokyo', 'Seattle']);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello Tokyo', 'Hello Seattle']);
  });

  test('fan-out and fan-in of 1000', async () => {
    const status = await run('fanOutFanIn', 1000);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe(999 * 1000);
  });

  test('activity retry succeeds on third attempt', async () => {
    const status = await run('retryUntilSuccess', 'retry-key-1');
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ attempts: 3, after: 6 });
  });

  test('parallel retries keep task numbering', async () => {
    const status = await run('parallelRetries', 'parallel-key');
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual([3, 42, 3, 84]);
  });

  test('exhausted retry surfaces last error', async () => {
    const status = await run('retryExhausted', null);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toContain('target unavailable');
  });

  test('durable timer fires', async () => {
    const status = await run('durableTimer', 300);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe('timer fired');
  });

  test('external event wins over timer', async () => {
    const started = await harness.engine.startOrchestration('approval', 'approval-1', null);
    expect(started.created).toBe(true);
    await waitFor(() => harness.engine.getStatus('approval-1')?.customStatus === 'waiting for approval');
    expect(harness.engine.raiseEvent('approval-1', 'approval', 'operator')).toBe('raised');
    const status = await harness.engine.waitForCompletion('approval-1', 10_000);
    expect(status?.output).toEqual({ approvedBy: 'operator' });
  });

  test('sub-orchestration returns its output', async () => {
    const status = await run('parentOfSequence', null);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual({ child: ['Hello Oslo'] });
  });

  test('entity call and signal', async () => {
    const status = await run('countWithEntity', 'entity-key-1');
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe(6);
    expect(harness.engine.readEntity('counter', 'entity-key-1')).toEqual({ exists: true, state: 6 });
  });

  test('continueAsNew restarts with new input', async () => {
    const status = await run('countdown', 3);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toBe('done');
    expect(status.input).toBe(0);
  });

  test('orchestrator error fails the instance', async () => {
    const status = await run('throwing', null);
    expect(status.runtimeStatus).toBe('Failed');
    expect(String(status.output)).toContain('orchestrator broke on purpose');
  });

  test('terminate stops a waiting instance', async () => {
    await harness.engine.startOrchestration('approval', 'approval-terminated', null);
    await waitFor(() => harness.engine.getStatus('approval-terminated')?.runtimeStatus === 'Running');
    expect(harness.engine.terminate('approval-terminated', 'no longer needed')).toBe('terminated');
    const status = harness.engine.getStatus('approval-terminated');
    expect(status?.runtimeStatus).toBe('Terminated');
    expect(status?.output).toBe('no longer needed');
  });

  test('rewind re-runs only the failure that failed the instance', async () => {
    const failed = await run('rewindable', 'rewind-a');
    expect(failed.runtimeStatus).toBe('Failed');
    releasedKeys().add('rewind-a');

    expect(harness.engine.rewind(failed.instanceId, 'target is back')).toBe('rewound');
    const status = await harness.engine.waitForCompletion(failed.instanceId, 10_000);

    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual({ handled: 'failure handled', value: 'delivered rewind-a' });
    expect(callCounts().get('failFirstTime:rewind-a')).toBe(1);
    expect(callCounts().get('failUntilReleased:rewind-a')).toBe(2);
    const history = harness.engine.getStatus(failed.instanceId, { showHistory: true, showHistoryOutput: true })?.historyEvents ?? [];
    expect(history.some((event) => event.Data === 'Rewound: target is back')).toBe(true);
  });

  test('rewind goes into a failed sub-orchestration', async () => {
    const failed = await run('rewindableParent', 'rewind-b', 'rewind-parent');
    expect(failed.runtimeStatus).toBe('Failed');
    releasedKeys().add('rewind-b');

    expect(harness.engine.rewind('rewind-parent', 'target is back')).toBe('rewound');
    const status = await harness.engine.waitForCompletion('rewind-parent', 10_000);

    expect(status?.runtimeStatus).toBe('Completed');
    expect(status?.output).toEqual({ child: { handled: 'failure handled', value: 'delivered rewind-b' } });
    expect(harness.engine.getStatus('rewind-parent:child')?.runtimeStatus).toBe('Completed');
  });

  test('rewind of a completed instance is refused', async () => {
    const status = await run('sequence', ['Done'], 'rewind-completed');
    expect(harness.engine.rewind(status.instanceId, 'no reason')).toBe('notFailed');
  });

  test('changed orchestrator code fails with the divergence', async () => {
    await harness.engine.startOrchestration('changingCode', 'nondeterministic-1', null);
    await waitFor(() => harness.engine.getStatus('nondeterministic-1', { showHistory: true })?.historyEvents?.some((event) => event.EventType === 'TaskCompleted') === true);
    (globalThis as unknown as { codeVariant: string }).codeVariant = 'new';

    harness.engine.raiseEvent('nondeterministic-1', 'go', null);
    const status = await harness.engine.waitForCompletion('nondeterministic-1', 10_000);
    (globalThis as unknown as { codeVariant: string }).codeVariant = 'old';

    expect(status?.runtimeStatus).toBe('Failed');
    expect(String(status?.output)).toContain('Orchestration replay diverged at history position');
    expect(String(status?.output)).toContain('activity "greet"');
    expect(String(status?.output)).toContain('activity "double"');
  });

  test('purge by running status deletes nothing', async () => {
    await harness.engine.startOrchestration('approval', 'purge-running', null);
    await waitFor(() => harness.engine.getStatus('purge-running')?.runtimeStatus === 'Running');

    const deleted = harness.engine.purgeInstances({ createdTimeFrom: new Date(0), runtimeStatus: ['Running', 'Suspended'] });

    expect(deleted).toBe(0);
    expect(harness.engine.getStatus('purge-running')?.runtimeStatus).toBe('Running');
  });

  test('purge by filter keeps running instances', async () => {
    await harness.engine.startOrchestration('approval', 'purge-running-2', null);
    await waitFor(() => harness.engine.getStatus('purge-running-2')?.runtimeStatus === 'Running');
    await run('sequence', ['Old'], 'purge-completed');

    harness.engine.purgeInstances({ createdTimeFrom: new Date(0) });

    expect(harness.engine.getStatus('purge-completed')).toBeUndefined();
    expect(harness.engine.getStatus('purge-running-2')?.runtimeStatus).toBe('Running');
  });

  test('purge removes instance and history', async () => {
    await run('sequence', ['Purge'], 'purge-me');
    expect(harness.engine.purgeInstance('purge-me')).toBe(1);
    expect(harness.engine.getStatus('purge-me')).toBeUndefined();
  });

  test('listing pages with continuation token', async () => {
    for (let i = 0; i < 5; i++) {
      await run('sequence', ['Page'], `page-${i}`);
    }
    const seen: string[] = [];
    let token: string | undefined;
    for (let pageCount = 0; pageCount < 10; pageCount++) {
      const page = harness.engine.listInstances({ instanceIdPrefix: 'page-', top: 2, continuationToken: token });
      seen.push(...page.instances.map((instance) => instance.instanceId));
      token = page.continuationToken;
      if (!token) {
        break;
      }
    }
    expect(seen.sort()).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  });
});

function releasedKeys(): Set<string> {
  return (globalThis as unknown as { releasedKeys: Set<string> }).releasedKeys;
}

function callCounts(): Map<string, number> {
  return (globalThis as unknown as { callCounts: Map<string, number> }).callCounts;
}

async function waitFor(condition: () => boolean, timeoutInMilliseconds = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutInMilliseconds;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met before the timeout');
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
