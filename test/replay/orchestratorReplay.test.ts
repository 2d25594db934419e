import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import path from 'node:path';
import { numberActions } from '../../local/durable/actions';
import { EventType } from '../../local/durable/historyEvents';
import type { OrchestratorState } from '../../local/durable/orchestrationEpisode';
import { findReplayDivergence } from '../../local/durable/replayCheck';
import type { HistoryEvent } from '../../local/durable/types';
import { FunctionInvoker } from '../../local/functionsCore/invoker';
import { loadApp } from '../../local/functionsCore/loadApp';
import type { FunctionRegistry } from '../../local/functionsCore/registry';
import { repoRoot } from '../helpers/hostProcess';
import { loadHistoryFixtures, type HistoryFixture } from './historyFixtures';

/**
 * Replays each recorded history in test/fixtures/histories against the current orchestrator
 * code of the compiled app (dist/app.js) and checks that the orchestrator still schedules the
 * tasks that the history recorded. A failure here means that instances in flight would replay
 * differently after a deployment. Build first with `npm run build`, which `npm test` runs.
 */

/** Separates the flag from the orchestrator state in the error that `durable-functions` throws when the orchestrator fails. */
const outOfProcDataLabel = '\n\n$OutOfProcData$:';

let registry: FunctionRegistry;
let invoker: FunctionInvoker;

beforeAll(async () => {
  // The app validates its connectors file when it loads. The shipped sample keeps this test
  // independent of a connectors.json that a user may have in the checkout.
  vi.stubEnv('CONNECTORS_FILE', path.join(repoRoot, 'connectors.sample.json'));
  vi.stubEnv('ORDERS_HMAC_SECRET', 'replay-test-secret');
  registry = await loadApp(repoRoot, () => undefined);
  invoker = new FunctionInvoker(registry, () => undefined);
});

afterAll(() => {
  vi.unstubAllEnvs();
});

/** Runs the orchestrator over the whole history in one episode, as the engine does, and returns its state. */
async function replay(fixture: HistoryFixture, history: HistoryEvent[] = fixture.history): Promise<OrchestratorState & { error?: string }> {
  const fn = registry.getFunction(fixture.orchestratorName);
  if (fn === undefined) {
    throw new Error(`The app does not register orchestrator "${fixture.orchestratorName}" any more, but a fixture recorded it.`);
  }
  const triggerInput = {
    history,
    input: fixture.input,
    instanceId: fixture.instanceId,
    isReplaying: true,
    parentInstanceId: fixture.parentInstanceId,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 1,
    longRunningTimerIntervalDuration: '3.00:00:00',
    maximumShortTimerDuration: '6.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
  };
  try {
    const { result } = await invoker.invoke(fn, { triggerData: { string: JSON.stringify(triggerInput) } });
    return result as OrchestratorState;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const labelAt = message.indexOf(outOfProcDataLabel);
    if (labelAt < 0) {
      throw error;
    }
    return JSON.parse(message.slice(labelAt + outOfProcDataLabel.length)) as OrchestratorState & { error?: string };
  }
}

async function divergenceOf(fixture: HistoryFixture, history: HistoryEvent[] = fixture.history) {
  const state = await replay(fixture, history);
  return findReplayDivergence(history, numberActions(state.actions ?? [], fixture.reservedTaskIds));
}

function lastEventOf(fixture: HistoryFixture, eventType: number): HistoryEvent | undefined {
  return fixture.history.filter((event) => event.EventType === eventType).at(-1);
}

const fixtures = loadHistoryFixtures();

describe('recorded histories replay on current orchestrators', () => {
  test('fixtures cover both orchestrators and five cases', () => {
    const names = fixtures.map(({ file }) => file);

    expect(names).toEqual([
      'deliverToDestination.circuitOpen.json',
      'deliverToDestination.failure.json',
      'deliverToDestination.retry.json',
      'deliverToDestination.success.json',
      'processMessage.circuitOpen.json',
      'processMessage.failure.json',
      'processMessage.retry.json',
      'processMessage.stale.json',
      'processMessage.success.json',
    ]);
  });

  describe.each(fixtures)('$file', ({ fixture }) => {
    test('orchestrator schedules the recorded tasks', async () => {
      expect(await divergenceOf(fixture)).toBeUndefined();
    });

    test('orchestrator ends as recorded', async () => {
      const state = await replay(fixture);

      if (fixture.runtimeStatus === 'Completed') {
        const completed = lastEventOf(fixture, EventType.ExecutionCompleted);
        expect(state.isDone).toBe(true);
        expect(state.output).toEqual(JSON.parse(completed?.Result as string));
      } else {
        const failed = lastEventOf(fixture, EventType.ExecutionFailed);
        expect(fixture.runtimeStatus).toBe('Failed');
        expect(state.error).toBe(failed?.Reason);
      }
    });
  });
});

describe('replay check on a changed history', () => {
  const success = fixtures.find(({ file }) => file === 'processMessage.success.json')?.fixture as HistoryFixture;

  test('renamed activity is reported', async () => {
    // As if the instance had started under code that called the activity transformPayloadV1.
    const history = structuredClone(success.history);
    const position = history.findIndex((event) => event.EventType === EventType.TaskScheduled && event.Name === 'transformPayload');
    history[position].Name = 'transformPayloadV1';

    const divergence = await divergenceOf(success, history);

    expect(divergence?.position).toBe(position);
    expect(divergence?.message).toContain(`diverged at history position ${position}:`);
    expect(divergence?.message).toContain(`the history has activity "transformPayloadV1" (task ${history[position].EventId})`);
    expect(divergence?.message).toContain('but the orchestrator now schedules activity "transformPayload".');
  });

  test('other entity operation is reported', async () => {
    const history = structuredClone(success.history);
    const position = history.findIndex((event) => event.EventType === EventType.EventSent);
    const request = JSON.parse(history[position].Input as string) as { op: string };
    history[position].Input = JSON.stringify({ ...request, op: 'offerVersionV0' });
    const entityId = history[position].InstanceId as string;

    const divergence = await divergenceOf(success, history);

    expect(divergence?.position).toBe(position);
    expect(divergence?.expected).toBe(`entity call "offerVersionV0" to "${entityId}"`);
    expect(divergence?.actual).toBe(`entity call "offerVersion" to "${entityId}"`);
  });
});
