import type { EngineState } from './engineState';
import { EventType, schedulingEventTypes } from './historyEvents';
import { RewindNotPossibleError, type HistoryEvent } from './types';

/** How to rewind one failed instance, computed from its history. */
export interface RewindPlan {
  /** History up to, not including, the failure being undone. */
  keptHistory: HistoryEvent[];
  /** Completions of tasks scheduled before the cut that arrived after it; they are delivered again. */
  requeuedEvents: HistoryEvent[];
  /** The task to run again, or undefined when the orchestrator itself threw and only needs a new episode. */
  rerun?: { kind: 'activity'; taskId: number; name: string; input: string | undefined } | { kind: 'subOrchestration'; taskId: number; childInstanceId: string; name: string; input: string | undefined };
  engineState: EngineState;
}

const completionEventTypes: ReadonlySet<number> = new Set([
  EventType.TaskCompleted,
  EventType.TaskFailed,
  EventType.TimerFired,
  EventType.SubOrchestrationInstanceCompleted,
  EventType.SubOrchestrationInstanceFailed,
  EventType.EventRaised,
]);

function completedTaskId(event: HistoryEvent): number | undefined {
  const id = event.EventType === EventType.TimerFired ? event.TimerId : event.TaskScheduledId;
  return typeof id === 'number' ? id : undefined;
}

/**
 * Plans the rewind of a failed instance. The failure that failed the instance is the last failed
 * task before `ExecutionFailed`: history is cut just before it, so that task runs again and the
 * orchestrator continues from there. Earlier failures that the orchestrator caught stay in the
 * history, which keeps the replay deterministic.
 *
 * Throws when the failure cannot be rewound: a task with retry options, whose retry timers the
 * library numbered, or a history without `ExecutionFailed`.
 */
export function planRewind(history: HistoryEvent[], state: EngineState, instanceId: string): RewindPlan {
  const failedAt = history.map((event) => event.EventType).lastIndexOf(EventType.ExecutionFailed);
  if (failedAt < 0) {
    throw new RewindNotPossibleError(`Instance "${instanceId}" has no failure in its history, so there is nothing to rewind.`);
  }

  let cut = -1;
  for (let position = failedAt - 1; position >= 0; position--) {
    const type = history[position].EventType;
    if (type === EventType.TaskFailed || type === EventType.SubOrchestrationInstanceFailed) {
      cut = position;
      break;
    }
  }

  const reserved = new Set(state.reservedTaskIds);
  if (cut < 0) {
    // The orchestrator threw on its own: drop the failure and replay, so fixed code can go on.
    return { keptHistory: history.slice(0, failedAt), requeuedEvents: [], engineState: state };
  }

  const next = history[cut + 1];
  if (next && next.EventType === EventType.TimerCreated && reserved.has(next.EventId)) {
    throw new RewindNotPossibleError(
      `Instance "${instanceId}" failed in a task scheduled with retry options, which the local engine cannot rewind. ` +
        'Restart the instance instead (POST instances/{id}/restart).',
    );
  }

  const keptHistory = history.slice(0, cut);
  const scheduledBefore = new Map<number, HistoryEvent>();
  for (const event of keptHistory) {
    if (schedulingEventTypes.has(event.EventType)) {
      scheduledBefore.set(event.EventId, event);
    }
  }

  const failure = history[cut];
  const failedTaskId = completedTaskId(failure) as number;
  const requeuedEvents = history.slice(cut + 1).filter((event) => {
    if (!completionEventTypes.has(event.EventType)) {
      return false;
    }
    if (event.EventType === EventType.EventRaised) {
      return true;
    }
    const taskId = completedTaskId(event);
    return taskId !== undefined && taskId !== failedTaskId && scheduledBefore.has(taskId);
  });

  const scheduling = scheduledBefore.get(failedTaskId);
  if (!scheduling) {
    throw new RewindNotPossibleError(`Instance "${instanceId}" has no scheduling event for failed task ${failedTaskId}, so it cannot be rewound.`);
  }
  const rerun: RewindPlan['rerun'] =
    failure.EventType === EventType.TaskFailed
      ? { kind: 'activity', taskId: failedTaskId, name: scheduling.Name as string, input: scheduling.Input as string | undefined }
      : {
          kind: 'subOrchestration',
          taskId: failedTaskId,
          childInstanceId: scheduling.InstanceId as string,
          name: scheduling.Name as string,
          input: scheduling.Input as string | undefined,
        };

  const reservedTaskIds = state.reservedTaskIds.filter((id) => scheduledBefore.has(id));
  const keptReserved = new Set(reservedTaskIds);
  const retries = Object.fromEntries(Object.entries(state.retries).filter(([id]) => scheduledBefore.has(Number(id))));
  const numberedActionCount = [...scheduledBefore.keys()].filter((id) => !keptReserved.has(id)).length;
  return { keptHistory, requeuedEvents, rerun, engineState: { reservedTaskIds, numberedActionCount, retries } };
}
