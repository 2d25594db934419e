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
import { earlierFixturesFolder, loadHistoryFixtures, type HistoryFixture } from './historyFixtures';

/**
 * Replays each recorded history in test/fixtures/histories against the current orchestrator
 * code of the compiled app (dist/app.js) and checks that the orchestrator still schedules the
 * tasks that the history recorded. A failure here means that instances in flight would replay
 * differently after a deployment. Build first with `npm run build`, which `npm test` runs.
 *
 * The histories in test/fixtures/histories/earlier were recorded by the orchestrators before
 * `recordMessage` prepared payloads and `deliverPayload` wrote delivered rows. They live in
 * their own folder so that a new recording cannot overwrite them, and they must replay as well,
 * because such instances may be in flight when the current code is deployed.
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
const earlierFixtures = loadHistoryFixtures(earlierFixturesFolder).map(({ file, fixture }) => ({ file: `earlier/${file}`, fixture }));

const recordedFiles = [
  'deliverToDestination.circuitOpen.json',
  'deliverToDestination.failure.json',
  'deliverToDestination.retry.json',
  'deliverToDestination.success.json',
  'deliverToDestination.withoutEntity.json',
  'processMessage.circuitOpen.json',
  'processMessage.failure.json',
  'processMessage.retry.json',
  'processMessage.stale.json',
  'processMessage.success.json',
  'processMessage.withoutEntity.json',
];

/** Returns the names of the tasks that a history scheduled, such as `activity transformPayload` or `signal reportAttempt`. */
function scheduledTasksOf(fixture: HistoryFixture): string[] {
  const tasks: string[] = [];
  for (const event of fixture.history) {
    if (event.EventType === EventType.TaskScheduled) {
      tasks.push(`activity ${event.Name as string}`);
    } else if (event.EventType === EventType.EventSent) {
      const request = JSON.parse(event.Input as string) as { op: string; signal: boolean };
      tasks.push(`${request.signal ? 'signal' : 'call'} ${request.op}`);
    }
  }
  return tasks;
}

function fixtureNamed(file: string): HistoryFixture {
  const found = [...fixtures, ...earlierFixtures].find((entry) => entry.file === file);
  if (found === undefined) {
    throw new Error(`Fixture ${file} is missing from test/fixtures/histories. Record it with test/replay/recordHistories.test.ts.`);
  }
  return found.fixture;
}

describe('recorded histories replay on current orchestrators', () => {
  test('fixtures cover both orchestrators and six cases', () => {
    expect(fixtures.map(({ file }) => file)).toEqual(recordedFiles);
  });

  test('earlier fixtures cover both orchestrators and six cases', () => {
    expect(earlierFixtures.map(({ file }) => file)).toEqual(recordedFiles.map((file) => `earlier/${file}`));
  });

  describe.each([...fixtures, ...earlierFixtures])('$file', ({ fixture }) => {
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

describe('step layout of the recorded histories', () => {
  test('message without entity skips transformPayload', () => {
    expect(scheduledTasksOf(fixtureNamed('processMessage.withoutEntity.json'))).toEqual(['activity recordMessage', 'activity recordMessageOutcome']);
  });

  test('earlier message without entity ran transformPayload', () => {
    expect(scheduledTasksOf(fixtureNamed('earlier/processMessage.withoutEntity.json'))).toEqual([
      'activity recordMessage',
      'activity transformPayload',
      'activity recordMessageOutcome',
    ]);
  });

  test('message with entity still runs transformPayload', () => {
    expect(scheduledTasksOf(fixtureNamed('processMessage.success.json'))).toContain('activity transformPayload');
  });

  test('delivered attempt signals and skips recordDelivery', () => {
    expect(scheduledTasksOf(fixtureNamed('deliverToDestination.success.json'))).toEqual(['call requestAttempt', 'activity deliverPayload', 'signal reportAttempt']);
  });

  test('failed attempts signal before the next request', () => {
    expect(scheduledTasksOf(fixtureNamed('deliverToDestination.retry.json'))).toEqual([
      'call requestAttempt',
      'activity deliverPayload',
      'signal reportAttempt',
      'activity recordDelivery',
      'call requestAttempt',
      'activity deliverPayload',
      'signal reportAttempt',
    ]);
  });

  test('earlier delivery calls the entity and recordDelivery', () => {
    expect(scheduledTasksOf(fixtureNamed('earlier/deliverToDestination.success.json'))).toEqual([
      'call requestAttempt',
      'activity deliverPayload',
      'call reportAttempt',
      'activity recordDelivery',
    ]);
  });
});

describe('replay check on a changed history', () => {
  const success = fixtureNamed('processMessage.success.json');

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

  test('prepared payloads in an earlier plan skip transformPayload', async () => {
    // Proves that processMessage chooses its next task from the recordMessage result in the history.
    const earlier = fixtureNamed('earlier/processMessage.withoutEntity.json');
    const history = structuredClone(earlier.history);
    const planEvent = history.find((event) => event.EventType === EventType.TaskCompleted && event.TaskScheduledId === 0) as HistoryEvent;
    const prepared = [{ destinationId: 'erp', kind: 'deliver', payloadBlobName: 'transformed/plain/prepared' }];
    planEvent.Result = JSON.stringify({ ...JSON.parse(planEvent.Result as string), preparedPayloads: prepared });
    const position = history.findIndex((event) => event.EventType === EventType.TaskScheduled && event.Name === 'transformPayload');

    const divergence = await divergenceOf(earlier, history);

    expect(divergence?.position).toBe(position);
    expect(divergence?.actual).toBe('sub-orchestration "deliverToDestination"');
  });

  test('deliveryRecorded in an earlier output turns the call into a signal', async () => {
    // Proves that deliverToDestination chooses callEntity or signalEntity from the deliverPayload output in the history.
    const earlier = fixtureNamed('earlier/deliverToDestination.success.json');
    const history = structuredClone(earlier.history);
    const attemptId = history.find((event) => event.EventType === EventType.TaskScheduled && event.Name === 'deliverPayload')?.EventId;
    const attemptEvent = history.find((event) => event.EventType === EventType.TaskCompleted && event.TaskScheduledId === attemptId) as HistoryEvent;
    attemptEvent.Result = JSON.stringify({ ...JSON.parse(attemptEvent.Result as string), deliveryRecorded: true });
    const position = history.findIndex((event) => event.EventType === EventType.EventSent && (event.Input as string).includes('"reportAttempt"'));
    const entityId = history[position].InstanceId as string;

    const divergence = await divergenceOf(earlier, history);

    expect(divergence?.position).toBe(position);
    expect(divergence?.expected).toBe(`entity call "reportAttempt" to "${entityId}"`);
    expect(divergence?.actual).toBe(`entity signal "reportAttempt" to "${entityId}"`);
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
