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

/** Converts a history event to the camelCase form of the management API's `historyEvents`. */
export function toManagementHistoryEvent(event: HistoryEvent, showOutput: boolean): Record<string, unknown> {
  const converted: Record<string, unknown> = { EventType: eventTypeNames[event.EventType] ?? String(event.EventType) };
  for (const [key, value] of Object.entries(event)) {
    if (key === 'EventType' || key === 'IsPlayed') {
      continue;
    }
    if (!showOutput && (key === 'Result' || key === 'Input')) {
      continue;
    }
    converted[key] = value;
  }
  return converted;
}
