import type { HistoryEvent } from './types';

/** History event types as `durable-functions` numbers them (`HistoryEventType`). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export const eventTypeNames: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([name, value]) => [value, name]),
);

/** Failure details in the wire form that `durable-functions` turns into a `TaskFailedError`. */
export interface FailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string;
}

export function historyEvent(type: number, timestampInMilliseconds: number, fields: Record<string, unknown> = {}, eventId = -1): HistoryEvent {
  return {
    EventType: type,
    EventId: eventId,
    IsPlayed: false,
    Timestamp: new Date(timestampInMilliseconds).toISOString(),
    ...fields,
  };
}

/** Converts a thrown value into failure details, keeping the message and type of an Error. */
export function toFailureDetails(error: unknown): FailureDetails {
  if (error instanceof Error) {
    return { ErrorType: error.name || 'Error', ErrorMessage: error.message, StackTrace: error.stack };
  }
  return { ErrorType: 'Error', ErrorMessage: typeof error === 'string' ? error : JSON.stringify(error) };
}

export function failureFields(details: FailureDetails): Record<string, unknown> {
  return { Reason: details.ErrorMessage, Details: '', FailureDetails: details };
}

/** Event types that record a task the orchestration scheduled, keyed by the task's sequence number. */
export const schedulingEventTypes: ReadonlySet<number> = new Set([
  EventType.TaskScheduled,
  EventType.SubOrchestrationInstanceCreated,
  EventType.TimerCreated,
  EventType.EventSent,
]);

/** Event types that the management API leaves out of `historyEvents`, as the Durable Functions extension does. */
const internalEventTypes: ReadonlySet<number> = new Set([
  EventType.OrchestratorStarted,
  EventType.OrchestratorCompleted,
  EventType.TaskScheduled,
  EventType.SubOrchestrationInstanceCreated,
]);

function parseResult(text: unknown): unknown {
  if (typeof text !== 'string') {
    return text;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Converts a history to the documented `historyEvents` form of the management API. Scheduling
 * and episode events are left out, and each completion names its function and scheduled time.
 * Terminal events carry the orchestration status. Results and inputs are parsed JSON, shown only
 * when `showOutput` is set.
 */
export function toManagementHistory(events: readonly HistoryEvent[], showOutput: boolean): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const event of events) {
    if (schedulingEventTypes.has(event.EventType)) {
      scheduled.set(event.EventId, event);
    }
  }

  const converted: Record<string, unknown>[] = [];
  for (const event of events) {
    if (internalEventTypes.has(event.EventType)) {
      continue;
    }
    const entry: Record<string, unknown> = { EventType: eventTypeNames[event.EventType] ?? String(event.EventType), Timestamp: event.Timestamp };
    const taskId = typeof event.TaskScheduledId === 'number' ? event.TaskScheduledId : undefined;
    const scheduling = taskId === undefined ? undefined : scheduled.get(taskId);
    switch (event.EventType) {
      case EventType.ExecutionStarted:
        entry.FunctionName = event.Name;
        if (showOutput) {
          entry.Input = parseResult(event.Input);
        }
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed:
        entry.FunctionName = scheduling?.Name;
        entry.ScheduledTime = scheduling?.Timestamp;
        if (event.EventType === EventType.SubOrchestrationInstanceCompleted || event.EventType === EventType.SubOrchestrationInstanceFailed) {
          entry.InstanceId = scheduling?.InstanceId;
        }
        break;
      case EventType.TimerFired:
        entry.TimerId = event.TimerId;
        entry.FireAt = event.FireAt;
        break;
      case EventType.EventRaised:
        entry.Name = event.Name;
        if (showOutput) {
          entry.Input = parseResult(event.Input);
        }
        break;
      case EventType.ExecutionCompleted:
        entry.OrchestrationStatus = 'Completed';
        break;
      case EventType.ExecutionFailed:
        entry.OrchestrationStatus = 'Failed';
        break;
      case EventType.ExecutionTerminated:
        entry.OrchestrationStatus = 'Terminated';
        entry.Reason = parseResult(event.Input);
        break;
      default:
        Object.assign(entry, event, { EventType: entry.EventType, IsPlayed: undefined, EventId: undefined });
    }
    if (showOutput && event.Result !== undefined) {
      entry.Result = parseResult(event.Result);
    }
    if (event.Reason !== undefined && entry.Reason === undefined) {
      entry.Reason = event.Reason;
    }
    if (event.Details !== undefined && event.Details !== '') {
      entry.Details = event.Details;
    }
    converted.push(JSON.parse(JSON.stringify(entry)) as Record<string, unknown>);
  }
  return converted;
}
