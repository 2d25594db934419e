import { ActionType, type NumberedAction, type OrchestratorAction } from './actions';
import { EventType, schedulingEventTypes } from './historyEvents';
import type { HistoryEvent } from './types';

/** The first place where the orchestrator's actions no longer match the recorded history. */
export interface ReplayDivergence {
  /** Index of the scheduling event in the history array. */
  position: number;
  /** The task as the history recorded it, such as `activity "transformPayload"`. */
  expected: string;
  /** The task that the orchestrator now returns for the same task id, or `nothing`. */
  actual: string;
  message: string;
}

type TaskKind = 'activity' | 'subOrchestration' | 'timer' | 'entityCall' | 'entitySignal' | 'httpCall' | 'other';

/** The parts of a scheduled task that must be the same in the history and in the actions. */
interface TaskIdentity {
  kind: TaskKind;
  /** Activity or orchestrator name, entity id (`@name@key`), or the action type of an `other` action. */
  name?: string;
  /** Entity operation. */
  operation?: string;
}

/** A task scheduled with retry options, followed through its retry timers and retried attempts. */
interface RetryChain {
  identity: TaskIdentity;
  maxNumberOfAttempts: number;
  attempt: number;
}

const failureEventTypes: ReadonlySet<number> = new Set([EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed]);

/**
 * Compares the actions that an orchestrator returned in an episode with the scheduling events
 * in its history, and returns the first difference in history order, or undefined when they match.
 *
 * `numbered` comes from `numberActions`. A scheduling event and the action with the same task id
 * must have the same kind (activity, sub-orchestration, timer, entity call, entity signal) and
 * the same activity or orchestrator name, entity id and operation. Inputs and timer due times
 * are not compared. A scheduling event that no action claims is a divergence, unless it is a
 * retry timer or a retried attempt of a task that the orchestrator scheduled with retry options.
 * Actions whose task id has no scheduling event yet are new work and are not checked.
 */
export function findReplayDivergence(history: HistoryEvent[], numbered: NumberedAction[]): ReplayDivergence | undefined {
  const actionsByTaskId = new Map<number, OrchestratorAction>();
  for (const { action, taskId } of numbered) {
    if (taskId !== undefined) {
      actionsByTaskId.set(taskId, action);
    }
  }
  const retryTaskIds = findRetryTaskIds(history, actionsByTaskId);

  for (let position = 0; position < history.length; position++) {
    const event = history[position];
    if (!schedulingEventTypes.has(event.EventType) || retryTaskIds.has(event.EventId)) {
      continue;
    }
    const recorded = identityOfEvent(event);
    const action = actionsByTaskId.get(event.EventId);
    const returned = action === undefined ? undefined : identityOfAction(action);
    if (returned !== undefined && sameIdentity(recorded, returned)) {
      continue;
    }
    return divergence(position, event.EventId, recorded, returned);
  }
  return undefined;
}

function divergence(position: number, taskId: number, recorded: TaskIdentity, returned: TaskIdentity | undefined): ReplayDivergence {
  const expected = describeTask(recorded);
  const actual = returned === undefined ? 'nothing' : describeTask(returned);
  const scheduled = returned === undefined ? `nothing for task ${taskId}` : actual;
  const message =
    `Orchestration replay diverged at history position ${position}: the history has ${expected} (task ${taskId}), ` +
    `but the orchestrator now schedules ${scheduled}. Orchestrator code changed while this instance was in flight. ` +
    'Keep the old code path for running instances, or start new instances.';
  return { position, expected, actual, message };
}

/**
 * Returns the task ids of retry timers and retried attempts in the history. The library numbers
 * them from the same counter as actions but returns no action for them.
 *
 * A chain starts at an action with retry options. After a failed attempt comes a timer that no
 * action claims (also after the last attempt, because the library waits on it before it fails the
 * task). When that timer fires and attempts remain, the next unclaimed scheduling event of the
 * same task is the retried attempt.
 */
function findRetryTaskIds(history: HistoryEvent[], actionsByTaskId: ReadonlyMap<number, OrchestratorAction>): Set<number> {
  const retryTaskIds = new Set<number>();
  const chainsByAttemptTaskId = new Map<number, RetryChain>();
  const chainsByTimerId = new Map<number, RetryChain>();
  for (const [taskId, action] of actionsByTaskId) {
    const isRetryAction = action.actionType === ActionType.CallActivityWithRetry || action.actionType === ActionType.CallSubOrchestratorWithRetry;
    if (isRetryAction && action.retryOptions !== undefined) {
      chainsByAttemptTaskId.set(taskId, { identity: identityOfAction(action), maxNumberOfAttempts: action.retryOptions.maxNumberOfAttempts, attempt: 1 });
    }
  }

  const waitingForTimer: RetryChain[] = [];
  const waitingForAttempt: RetryChain[] = [];
  for (const event of history) {
    const isClaimed = schedulingEventTypes.has(event.EventType) && actionsByTaskId.has(event.EventId);
    if (failureEventTypes.has(event.EventType)) {
      const chain = chainsByAttemptTaskId.get(event.TaskScheduledId as number);
      if (chain !== undefined) {
        waitingForTimer.push(chain);
      }
    } else if (event.EventType === EventType.TimerCreated && !isClaimed && waitingForTimer.length > 0) {
      const chain = waitingForTimer.shift() as RetryChain;
      chainsByTimerId.set(event.EventId, chain);
      retryTaskIds.add(event.EventId);
    } else if (event.EventType === EventType.TimerFired) {
      const chain = chainsByTimerId.get(event.TimerId as number);
      if (chain !== undefined && chain.attempt < chain.maxNumberOfAttempts) {
        waitingForAttempt.push(chain);
      }
    } else if (schedulingEventTypes.has(event.EventType) && !isClaimed) {
      const index = waitingForAttempt.findIndex((chain) => sameIdentity(chain.identity, identityOfEvent(event)));
      if (index >= 0) {
        const [chain] = waitingForAttempt.splice(index, 1);
        chain.attempt++;
        chainsByAttemptTaskId.set(event.EventId, chain);
        retryTaskIds.add(event.EventId);
      }
    }
  }
  return retryTaskIds;
}

function identityOfAction(action: OrchestratorAction): TaskIdentity {
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return { kind: 'activity', name: action.functionName };
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
      return { kind: 'subOrchestration', name: action.functionName };
    case ActionType.CreateTimer:
      return { kind: 'timer' };
    case ActionType.CallEntity:
      return { kind: 'entityCall', name: action.instanceId, operation: action.operation };
    case ActionType.SignalEntity:
      return { kind: 'entitySignal', name: action.instanceId, operation: action.operation };
    case ActionType.CallHttp:
      return { kind: 'httpCall' };
    default:
      return { kind: 'other', name: String(action.actionType) };
  }
}

function identityOfEvent(event: HistoryEvent): TaskIdentity {
  switch (event.EventType) {
    case EventType.TaskScheduled:
      return { kind: 'activity', name: event.Name as string | undefined };
    case EventType.SubOrchestrationInstanceCreated:
      return { kind: 'subOrchestration', name: event.Name as string | undefined };
    case EventType.TimerCreated:
      return { kind: 'timer' };
    case EventType.EventSent: {
      // An entity request: InstanceId is `@name@key` and Input is the request as JSON.
      const request = parseEntityRequest(event.Input);
      return { kind: request.signal === true ? 'entitySignal' : 'entityCall', name: event.InstanceId as string | undefined, operation: request.op };
    }
    default:
      return { kind: 'other', name: String(event.EventType) };
  }
}

function parseEntityRequest(input: unknown): { op?: string; signal?: boolean } {
  if (typeof input !== 'string') {
    return {};
  }
  try {
    const parsed = JSON.parse(input) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as { op?: string; signal?: boolean }) : {};
  } catch {
    return {};
  }
}

function sameIdentity(left: TaskIdentity, right: TaskIdentity): boolean {
  return left.kind === right.kind && left.name === right.name && left.operation === right.operation;
}

function describeTask(task: TaskIdentity): string {
  switch (task.kind) {
    case 'activity':
      return `activity "${task.name}"`;
    case 'subOrchestration':
      return `sub-orchestration "${task.name}"`;
    case 'timer':
      return 'a timer';
    case 'entityCall':
      return `entity call "${task.operation}" to "${task.name}"`;
    case 'entitySignal':
      return `entity signal "${task.operation}" to "${task.name}"`;
    case 'httpCall':
      return 'an HTTP call';
    default:
      return `an action of type ${task.name}`;
  }
}
