/** Action types as `durable-functions` numbers them (`ActionType`). */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export interface RetryOptions {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** An action as the orchestrator returns it, with the fields of every action type. */
export interface OrchestratorAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  retryOptions?: RetryOptions;
  fireAt?: Date | string;
  isCanceled?: boolean;
  operation?: string;
  compoundActions?: OrchestratorAction[];
  reason?: string;
}

/** An action together with the sequence number the library gave its task, if it takes one. */
export interface NumberedAction {
  action: OrchestratorAction;
  taskId: number | undefined;
}

/** Action types whose task takes a sequence number from the orchestration's counter. */
const numberedActionTypes: ReadonlySet<number> = new Set([
  ActionType.CallActivity,
  ActionType.CallActivityWithRetry,
  ActionType.CallSubOrchestrator,
  ActionType.CallSubOrchestratorWithRetry,
  ActionType.CreateTimer,
  ActionType.CallEntity,
  ActionType.CallHttp,
  ActionType.SignalEntity,
]);

function flatten(actions: readonly OrchestratorAction[], into: OrchestratorAction[], seen: Set<OrchestratorAction>): void {
  for (const action of actions) {
    if (action.actionType === ActionType.WhenAll || action.actionType === ActionType.WhenAny) {
      flatten(action.compoundActions ?? [], into, seen);
      continue;
    }
    // A task yielded alone and then again inside Task.all appears twice but took one number.
    if (seen.has(action)) {
      continue;
    }
    seen.add(action);
    into.push(action);
  }
}

/**
 * Numbers the orchestrator's actions the way the library's executor does, in the order they
 * were yielded and one number per numbered action. The numbers that the library gave to retry
 * timers and retried attempts (`reservedTaskIds`) are skipped, because those have no action.
 */
export function numberActions(actionLists: readonly (readonly OrchestratorAction[])[], reservedTaskIds: readonly number[]): NumberedAction[] {
  const flat: OrchestratorAction[] = [];
  const seen = new Set<OrchestratorAction>();
  for (const list of actionLists) {
    flatten(list, flat, seen);
  }

  const reserved = new Set(reservedTaskIds);
  let nextTaskId = 0;
  const numbered: NumberedAction[] = [];
  for (const action of flat) {
    if (!numberedActionTypes.has(action.actionType)) {
      numbered.push({ action, taskId: undefined });
      continue;
    }
    while (reserved.has(nextTaskId)) {
      nextTaskId++;
    }
    numbered.push({ action, taskId: nextTaskId });
    nextTaskId++;
  }
  return numbered;
}

/** Computes the wait before the retry that follows failed attempt `attempt` (1-based). */
export function retryDelayInMilliseconds(options: RetryOptions, attempt: number): number {
  const coefficient = options.backoffCoefficient ?? 1;
  const delay = options.firstRetryIntervalInMilliseconds * Math.pow(coefficient, attempt - 1);
  const maxInterval = options.maxRetryIntervalInMilliseconds;
  return maxInterval !== undefined && maxInterval > 0 ? Math.min(delay, maxInterval) : delay;
}
