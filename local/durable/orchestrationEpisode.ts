import { randomUUID } from 'node:crypto';
import { ActionType, numberActions, retryDelayInMilliseconds, type OrchestratorAction } from './actions';
import { type EngineState, type RetryProgress } from './engineState';
import { EventType, historyEvent, schedulingEventTypes, type FailureDetails } from './historyEvents';
import { findReplayDivergence } from './replayCheck';
import type { HistoryEvent, RuntimeStatus } from './types';

/** Decisions of one episode, which the engine applies in a single transaction. */
export interface EpisodeOutcome {
  newHistory: HistoryEvent[];
  runtimeStatus: RuntimeStatus;
  output: unknown;
  customStatus: unknown;
  engineState: EngineState;
  /** Set when the orchestration called continueAsNew: the new input, history starts over. */
  continueAsNew?: { input: unknown };
  ownInbox: { event: HistoryEvent; visibleAtInMilliseconds: number }[];
  activities: { taskId: number; name: string; input: string | undefined }[];
  subOrchestrations: { taskId: number; name: string; instanceId: string; input: string | undefined }[];
  entityRequests: { entityId: string; operation: string; input: string | undefined; isSignal: boolean; requestId: string }[];
  failure?: FailureDetails;
}

/** The orchestrator's state after one episode, as `durable-functions` returns it. */
export interface OrchestratorState {
  isDone: boolean;
  actions: OrchestratorAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

export interface EpisodeInput {
  instanceId: string;
  executionId: string;
  history: HistoryEvent[];
  inbox: HistoryEvent[];
  engineState: EngineState;
  nowInMilliseconds: number;
  /** Runs the orchestrator over the whole history; a thrown failure comes back as `failure`. */
  runOrchestrator(history: HistoryEvent[]): Promise<{ state: OrchestratorState; failure?: FailureDetails }>;
}

function taskIdOf(event: HistoryEvent): number | undefined {
  const id = event.EventType === EventType.TimerFired ? event.TimerId : event.TaskScheduledId;
  return typeof id === 'number' ? id : undefined;
}

function isFailureEvent(event: HistoryEvent): boolean {
  return event.EventType === EventType.TaskFailed || event.EventType === EventType.SubOrchestrationInstanceFailed;
}

function schedulingEventFor(progress: RetryProgress, taskId: number, timestamp: number, instanceId: string): HistoryEvent {
  if (progress.kind === 'activity') {
    return historyEvent(EventType.TaskScheduled, timestamp, { Name: progress.name, Input: progress.input }, taskId);
  }
  return historyEvent(
    EventType.SubOrchestrationInstanceCreated,
    timestamp,
    { Name: progress.name, Input: progress.input, InstanceId: progress.childInstanceId ?? `${instanceId}:${taskId}` },
    taskId,
  );
}

/**
 * Runs one episode of an orchestration: appends the events that arrived, replays the
 * orchestrator over the whole history, and turns its new actions into scheduled work.
 *
 * Retried tasks need care. The library numbers the retry timer after a failed attempt, and the
 * next attempt after that timer, from the same counter as actions, but returns no action for
 * them. Such events go first in the episode, so the numbers they take follow directly the last
 * number the previous episode used.
 */
export async function runEpisode(input: EpisodeInput): Promise<EpisodeOutcome> {
  const now = input.nowInMilliseconds;
  const state: EngineState = structuredClone(input.engineState);
  const outcome: EpisodeOutcome = {
    newHistory: [historyEvent(EventType.OrchestratorStarted, now)],
    runtimeStatus: 'Running',
    output: undefined,
    customStatus: undefined,
    engineState: state,
    ownInbox: [],
    activities: [],
    subOrchestrations: [],
    entityRequests: [],
  };

  const retryEvents: HistoryEvent[] = [];
  const otherEvents: HistoryEvent[] = [];
  for (const event of input.inbox) {
    const taskId = taskIdOf(event);
    const progress = taskId === undefined ? undefined : state.retries[taskId];
    const takesNumber =
      progress !== undefined &&
      ((progress.waitingFor === 'attempt' && isFailureEvent(event)) ||
        (progress.waitingFor === 'timer' && event.EventType === EventType.TimerFired && progress.attempt < progress.options.maxNumberOfAttempts));
    (takesNumber ? retryEvents : otherEvents).push(event);
  }

  let nextTaskId = state.numberedActionCount + state.reservedTaskIds.length;
  for (const event of retryEvents) {
    const taskId = taskIdOf(event) as number;
    const progress = state.retries[taskId];
    delete state.retries[taskId];
    const reservedId = nextTaskId++;
    state.reservedTaskIds.push(reservedId);
    outcome.newHistory.push(event);

    if (progress.waitingFor === 'attempt') {
      const exhausted = progress.attempt >= progress.options.maxNumberOfAttempts;
      const delay = exhausted ? 0 : retryDelayInMilliseconds(progress.options, progress.attempt);
      const fireAt = new Date(now + delay).toISOString();
      outcome.newHistory.push(historyEvent(EventType.TimerCreated, now, { FireAt: fireAt }, reservedId));
      outcome.ownInbox.push({ event: historyEvent(EventType.TimerFired, now + delay, { TimerId: reservedId, FireAt: fireAt }), visibleAtInMilliseconds: now + delay });
      state.retries[reservedId] = { ...progress, waitingFor: 'timer', lastFailure: event };
      continue;
    }

    const next: RetryProgress = { ...progress, attempt: progress.attempt + 1, waitingFor: 'attempt' };
    const scheduled = schedulingEventFor(next, reservedId, now, input.instanceId);
    outcome.newHistory.push(scheduled);
    scheduleTask(outcome, next.kind, reservedId, next.name, next.input, scheduled.InstanceId as string | undefined);
    state.retries[reservedId] = next;
  }

  for (const event of otherEvents) {
    const taskId = taskIdOf(event);
    if (taskId !== undefined && state.retries[taskId]) {
      delete state.retries[taskId];
    }
    outcome.newHistory.push(event);
  }

  const fullHistory = [...input.history.map((event) => ({ ...event, IsPlayed: true })), ...outcome.newHistory];
  const { state: orchestratorState, failure } = await input.runOrchestrator(fullHistory);
  outcome.customStatus = orchestratorState.customStatus;

  const numbered = numberActions(orchestratorState.actions ?? [], state.reservedTaskIds);
  const divergence = findReplayDivergence(fullHistory, numbered);
  // An orchestrator that threw stopped early, so tasks it did not reach are expected to be missing.
  if (divergence && !(failure && divergence.actual === 'nothing')) {
    return failEpisode(outcome, { ErrorType: 'NonDeterministicOrchestrationError', ErrorMessage: divergence.message }, now);
  }
  if (failure) {
    return failEpisode(outcome, failure, now);
  }

  const alreadyScheduled = new Set<number>();
  for (const event of fullHistory) {
    if (schedulingEventTypes.has(event.EventType)) {
      alreadyScheduled.add(event.EventId);
    }
  }
  state.numberedActionCount = numbered.filter((item) => item.taskId !== undefined).length;

  for (const { action, taskId } of numbered) {
    if (action.actionType === ActionType.ContinueAsNew) {
      const inputText = preSerializedInputText(action.input);
      outcome.continueAsNew = { input: inputText === undefined ? undefined : JSON.parse(inputText) };
      continue;
    }
    if (taskId === undefined || alreadyScheduled.has(taskId)) {
      continue;
    }
    const unsupported = applyNewAction(outcome, action, taskId, input.instanceId, now);
    if (unsupported) {
      return failEpisode(outcome, unsupported, now);
    }
  }

  if (orchestratorState.isDone && outcome.continueAsNew) {
    outcome.runtimeStatus = 'Running';
    return outcome;
  }
  if (orchestratorState.isDone) {
    outcome.runtimeStatus = 'Completed';
    outcome.output = orchestratorState.output;
    outcome.newHistory.push(historyEvent(EventType.ExecutionCompleted, now, { Result: JSON.stringify(orchestratorState.output ?? null) }));
  }
  return outcome;
}

function failEpisode(outcome: EpisodeOutcome, failure: FailureDetails, now: number): EpisodeOutcome {
  outcome.runtimeStatus = 'Failed';
  outcome.failure = failure;
  outcome.output = failure.ErrorMessage;
  outcome.newHistory.push(historyEvent(EventType.ExecutionFailed, now, { Reason: failure.ErrorMessage, FailureDetails: failure }));
  return outcome;
}

function scheduleTask(outcome: EpisodeOutcome, kind: RetryProgress['kind'], taskId: number, name: string, input: string | undefined, instanceId?: string): void {
  if (kind === 'activity') {
    outcome.activities.push({ taskId, name, input });
  } else {
    outcome.subOrchestrations.push({ taskId, name, input, instanceId: instanceId as string });
  }
}

function jsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/**
 * Returns the JSON text of an activity or continueAsNew input. The library serializes string
 * inputs of those actions itself (`Utils.processInput`), so a string is already JSON text.
 */
function preSerializedInputText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : jsonText(value);
}

/** Records a newly returned action and schedules its work. Returns failure details for an action the host cannot run. */
function applyNewAction(outcome: EpisodeOutcome, action: OrchestratorAction, taskId: number, instanceId: string, now: number): FailureDetails | undefined {
  const state = outcome.engineState;
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry: {
      const name = action.functionName as string;
      const input = preSerializedInputText(action.input);
      outcome.newHistory.push(historyEvent(EventType.TaskScheduled, now, { Name: name, Input: input }, taskId));
      outcome.activities.push({ taskId, name, input });
      if (action.actionType === ActionType.CallActivityWithRetry && action.retryOptions) {
        state.retries[taskId] = { kind: 'activity', name, input, options: action.retryOptions, attempt: 1, waitingFor: 'attempt' };
      }
      return undefined;
    }
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry: {
      const name = action.functionName as string;
      const input = jsonText(action.input);
      const childInstanceId = action.instanceId || `${instanceId}:${taskId}`;
      outcome.newHistory.push(historyEvent(EventType.SubOrchestrationInstanceCreated, now, { Name: name, Input: input, InstanceId: childInstanceId }, taskId));
      outcome.subOrchestrations.push({ taskId, name, input, instanceId: childInstanceId });
      if (action.actionType === ActionType.CallSubOrchestratorWithRetry && action.retryOptions) {
        state.retries[taskId] = {
          kind: 'subOrchestration',
          name,
          input,
          childInstanceId: action.instanceId || undefined,
          options: action.retryOptions,
          attempt: 1,
          waitingFor: 'attempt',
        };
      }
      return undefined;
    }
    case ActionType.CreateTimer: {
      const fireAtInMilliseconds = new Date(action.fireAt as string | Date).getTime();
      const fireAt = new Date(fireAtInMilliseconds).toISOString();
      outcome.newHistory.push(historyEvent(EventType.TimerCreated, now, { FireAt: fireAt }, taskId));
      outcome.ownInbox.push({
        event: historyEvent(EventType.TimerFired, fireAtInMilliseconds, { TimerId: taskId, FireAt: fireAt }),
        visibleAtInMilliseconds: fireAtInMilliseconds,
      });
      return undefined;
    }
    case ActionType.CallEntity:
    case ActionType.SignalEntity: {
      const isSignal = action.actionType === ActionType.SignalEntity;
      const requestId = randomUUID();
      const entityId = action.instanceId as string;
      const input = jsonText(action.input);
      const request = { id: requestId, op: action.operation, signal: isSignal, input, parent: instanceId };
      outcome.newHistory.push(
        historyEvent(EventType.EventSent, now, { InstanceId: entityId, Name: isSignal ? 'op' : 'op', Input: JSON.stringify(request) }, taskId),
      );
      outcome.entityRequests.push({ entityId, operation: action.operation as string, input, isSignal, requestId });
      return undefined;
    }
    default:
      return {
        ErrorType: 'NotSupportedError',
        ErrorMessage:
          `The orchestration returned an action of type ${action.actionType}, which the local host does not support ` +
          '(callHttp and entity locks are not available locally). Remove that call or run the app on Azure Functions.',
      };
  }
}
