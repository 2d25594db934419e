import { describe, expect, test } from 'vitest';
import { ActionType, numberActions, type OrchestratorAction } from '../../local/durable/actions';
import { EventType, historyEvent } from '../../local/durable/historyEvents';
import { findReplayDivergence } from '../../local/durable/replayCheck';
import type { HistoryEvent } from '../../local/durable/types';

/**
 * Hand-made histories in the form that the local engine records, checked against the
 * actions that an orchestrator would return when it replays them.
 */

const startedAt = Date.parse('2024-05-01T10:00:00.000Z');
const entityId = '@trackedentity@orders|order|1001';

function activity(name: string): OrchestratorAction {
  return { actionType: ActionType.CallActivity, functionName: name, input: '{}' };
}

function activityWithRetry(name: string, maxNumberOfAttempts: number): OrchestratorAction {
  return {
    actionType: ActionType.CallActivityWithRetry,
    functionName: name,
    input: '{}',
    retryOptions: { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts },
  };
}

function subOrchestration(name: string): OrchestratorAction {
  return { actionType: ActionType.CallSubOrchestrator, functionName: name, instanceId: 'child-1', input: {} };
}

function timer(): OrchestratorAction {
  return { actionType: ActionType.CreateTimer, fireAt: new Date(startedAt + 1_000), isCanceled: false };
}

function entityCall(operation: string, id: string = entityId): OrchestratorAction {
  return { actionType: ActionType.CallEntity, instanceId: id, operation, input: { version: 1 } };
}

function entitySignal(operation: string, id: string = entityId): OrchestratorAction {
  return { actionType: ActionType.SignalEntity, instanceId: id, operation, input: { version: 1 } };
}

function taskScheduled(taskId: number, name: string): HistoryEvent {
  return historyEvent(EventType.TaskScheduled, startedAt, { Name: name, Input: '{}' }, taskId);
}

function taskCompleted(taskId: number): HistoryEvent {
  return historyEvent(EventType.TaskCompleted, startedAt, { TaskScheduledId: taskId, Result: 'null' });
}

function taskFailed(taskId: number): HistoryEvent {
  return historyEvent(EventType.TaskFailed, startedAt, { TaskScheduledId: taskId, Reason: 'HTTP 503', Details: '' });
}

function timerCreated(taskId: number): HistoryEvent {
  return historyEvent(EventType.TimerCreated, startedAt, { FireAt: new Date(startedAt + 100).toISOString() }, taskId);
}

function timerFired(taskId: number): HistoryEvent {
  return historyEvent(EventType.TimerFired, startedAt + 100, { TimerId: taskId, FireAt: new Date(startedAt + 100).toISOString() });
}

function entityRequestSent(taskId: number, operation: string, isSignal: boolean, id: string = entityId): HistoryEvent {
  const request = { id: `request-${taskId}`, op: operation, signal: isSignal, input: '{"version":1}', parent: 'orders-1' };
  return historyEvent(EventType.EventSent, startedAt, { InstanceId: id, Name: 'op', Input: JSON.stringify(request) }, taskId);
}

function episodeStart(): HistoryEvent[] {
  return [historyEvent(EventType.OrchestratorStarted, startedAt), historyEvent(EventType.ExecutionStarted, startedAt, { Name: 'processMessage', Input: '{}' })];
}

/** Record message (0), call the entity (1), transform (2), deliver in a sub-orchestration (3), wait (4). */
function recordedHistory(): HistoryEvent[] {
  return [
    ...episodeStart(),
    taskScheduled(0, 'recordMessage'),
    historyEvent(EventType.OrchestratorStarted, startedAt),
    taskCompleted(0),
    entityRequestSent(1, 'offerVersion', false),
    historyEvent(EventType.OrchestratorStarted, startedAt),
    historyEvent(EventType.EventRaised, startedAt, { Name: 'request-1', Input: '{"result":{"accepted":true}}' }),
    taskScheduled(2, 'transformPayload'),
    historyEvent(EventType.OrchestratorStarted, startedAt),
    taskCompleted(2),
    historyEvent(EventType.SubOrchestrationInstanceCreated, startedAt, { Name: 'deliverToDestination', InstanceId: 'child-1', Input: '{}' }, 3),
    historyEvent(EventType.OrchestratorStarted, startedAt),
    historyEvent(EventType.SubOrchestrationInstanceCompleted, startedAt, { TaskScheduledId: 3, Result: 'null' }),
    timerCreated(4),
  ];
}

function recordedActions(): OrchestratorAction[] {
  return [activity('recordMessage'), entityCall('offerVersion'), activity('transformPayload'), subOrchestration('deliverToDestination'), timer()];
}

function replay(history: HistoryEvent[], actions: OrchestratorAction[], reservedTaskIds: number[] = []) {
  return findReplayDivergence(history, numberActions([actions], reservedTaskIds));
}

describe('findReplayDivergence', () => {
  test('same actions as the history match', () => {
    expect(replay(recordedHistory(), recordedActions())).toBeUndefined();
  });

  test('actions beyond the history are new work', () => {
    const actions = [...recordedActions(), activity('writeAudit'), entitySignal('forget')];

    expect(replay(recordedHistory(), actions)).toBeUndefined();
  });

  test('actions inside Task.all match', () => {
    const actions = recordedActions();
    const [first, second, ...rest] = actions;
    const grouped: OrchestratorAction[] = [{ actionType: ActionType.WhenAll, compoundActions: [first, second] }, ...rest];

    expect(replay(recordedHistory(), grouped)).toBeUndefined();
  });

  test('other activity name diverges', () => {
    const actions = recordedActions();
    actions[2] = activity('transformPayloadV2');

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.position).toBe(8);
    expect(divergence?.expected).toBe('activity "transformPayload"');
    expect(divergence?.actual).toBe('activity "transformPayloadV2"');
    expect(divergence?.message).toBe(
      'Orchestration replay diverged at history position 8: the history has activity "transformPayload" (task 2), ' +
        'but the orchestrator now schedules activity "transformPayloadV2". Orchestrator code changed while this instance ' +
        'was in flight. Keep the old code path for running instances, or start new instances.',
    );
  });

  test('activity replaced by a sub-orchestration diverges', () => {
    const actions = recordedActions();
    actions[2] = subOrchestration('transformPayload');

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.position).toBe(8);
    expect(divergence?.actual).toBe('sub-orchestration "transformPayload"');
  });

  test('sub-orchestration replaced by an activity diverges', () => {
    const actions = recordedActions();
    actions[3] = activity('deliverToDestination');

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.position).toBe(11);
    expect(divergence?.expected).toBe('sub-orchestration "deliverToDestination"');
    expect(divergence?.actual).toBe('activity "deliverToDestination"');
  });

  test('timer replaced by an activity diverges', () => {
    const actions = recordedActions();
    actions[4] = activity('writeAudit');

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.position).toBe(14);
    expect(divergence?.message).toContain('the history has a timer (task 4), but the orchestrator now schedules activity "writeAudit"');
  });

  test('missing action diverges', () => {
    const actions = recordedActions().slice(0, 3);

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.position).toBe(11);
    expect(divergence?.actual).toBe('nothing');
    expect(divergence?.message).toContain(
      'the history has sub-orchestration "deliverToDestination" (task 3), but the orchestrator now schedules nothing for task 3.',
    );
  });

  test('removed action in the middle diverges at its position', () => {
    const actions = recordedActions();
    actions.splice(1, 1);

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.position).toBe(5);
    expect(divergence?.expected).toBe(`entity call "offerVersion" to "${entityId}"`);
    expect(divergence?.actual).toBe('activity "transformPayload"');
  });

  test('other entity operation diverges', () => {
    const actions = recordedActions();
    actions[1] = entityCall('offerVersionV2');

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.position).toBe(5);
    expect(divergence?.message).toContain(
      `the history has entity call "offerVersion" to "${entityId}" (task 1), but the orchestrator now schedules entity call "offerVersionV2" to "${entityId}".`,
    );
  });

  test('other entity id diverges', () => {
    const actions = recordedActions();
    actions[1] = entityCall('offerVersion', '@trackedentity@orders|order|1002');

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.actual).toBe('entity call "offerVersion" to "@trackedentity@orders|order|1002"');
  });

  test('entity signal in place of a call diverges', () => {
    const actions = recordedActions();
    actions[1] = entitySignal('offerVersion');

    const divergence = replay(recordedHistory(), actions);

    expect(divergence?.actual).toBe(`entity signal "offerVersion" to "${entityId}"`);
  });

  test('recorded entity signal matches a signal', () => {
    const history = [...episodeStart(), entityRequestSent(0, 'forget', true)];

    expect(replay(history, [entitySignal('forget')])).toBeUndefined();
  });

  describe('retried tasks', () => {
    /** deliverPayload (0) with retry fails, waits on timer 1 and succeeds as attempt 2. Then comes writeAudit (3). */
    function retriedHistory(): HistoryEvent[] {
      return [
        ...episodeStart(),
        taskScheduled(0, 'deliverPayload'),
        historyEvent(EventType.OrchestratorStarted, startedAt),
        taskFailed(0),
        timerCreated(1),
        historyEvent(EventType.OrchestratorStarted, startedAt),
        timerFired(1),
        taskScheduled(2, 'deliverPayload'),
        historyEvent(EventType.OrchestratorStarted, startedAt),
        taskCompleted(2),
        taskScheduled(3, 'writeAudit'),
      ];
    }

    test('retry timers and retried attempts are ignored', () => {
      const actions = [activityWithRetry('deliverPayload', 3), activity('writeAudit')];

      expect(replay(retriedHistory(), actions, [1, 2])).toBeUndefined();
    });

    test('retried attempts of the last task are ignored', () => {
      const history = retriedHistory().slice(0, -1);

      expect(replay(history, [activityWithRetry('deliverPayload', 3)], [1, 2])).toBeUndefined();
    });

    test('retry timer is not ignored without retry options', () => {
      const actions = [activity('deliverPayload'), activity('writeAudit')];

      const divergence = replay(retriedHistory(), actions, [1, 2]);

      expect(divergence?.position).toBe(5);
      expect(divergence?.expected).toBe('a timer');
      expect(divergence?.actual).toBe('nothing');
    });

    test('scheduling event after the last attempt needs an action', () => {
      // Both attempts fail. The library waits on a timer after the last one too, then fails the task.
      const history = [
        ...episodeStart(),
        taskScheduled(0, 'deliverPayload'),
        historyEvent(EventType.OrchestratorStarted, startedAt),
        taskFailed(0),
        timerCreated(1),
        historyEvent(EventType.OrchestratorStarted, startedAt),
        timerFired(1),
        taskScheduled(2, 'deliverPayload'),
        historyEvent(EventType.OrchestratorStarted, startedAt),
        taskFailed(2),
        timerCreated(3),
        historyEvent(EventType.OrchestratorStarted, startedAt),
        timerFired(3),
        taskScheduled(4, 'deliverPayload'),
      ];

      const divergence = replay(history, [activityWithRetry('deliverPayload', 2)], [1, 2, 3]);

      expect(divergence?.position).toBe(14);
      expect(divergence?.expected).toBe('activity "deliverPayload"');
      expect(divergence?.actual).toBe('nothing');
    });

    test('retried attempt of another activity diverges', () => {
      const history = retriedHistory();
      history[8] = taskScheduled(2, 'deliverPayloadV2');

      const divergence = replay(history, [activityWithRetry('deliverPayload', 3), activity('writeAudit')], [1, 2]);

      expect(divergence?.position).toBe(8);
      expect(divergence?.expected).toBe('activity "deliverPayloadV2"');
    });
  });
});
