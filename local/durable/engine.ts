import { randomUUID } from 'node:crypto';
import type { FunctionInvoker } from '../functionsCore/invoker';
import type { FunctionRegistry, RegisteredFunction } from '../functionsCore/registry';
import { systemClock, type Clock } from './clock';
import { openEngineDatabase } from './database';
import { emptyEngineState, parseEngineState } from './engineState';
import { formatEntityId, parseEntityId, type EntityBatchResult } from './entityBatch';
import { EventType, failureFields, historyEvent, toFailureDetails, toManagementHistoryEvent, type FailureDetails } from './historyEvents';
import { runEpisode, type EpisodeOutcome, type OrchestratorState } from './orchestrationEpisode';
import { EngineStore, type ActivityRow, type InstanceRow } from './store';
import {
  terminalStatuses,
  type DurableEngineApi,
  type EntityStateResult,
  type HistoryEvent,
  type InstanceStatus,
  type ListFilter,
  type ListPage,
  type RuntimeStatus,
  type StartResult,
  type StatusOptions,
} from './types';

/** The subset of a pino logger the engine writes to. */
export interface EngineLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface DurableEngineOptions {
  databasePath: string;
  registry: FunctionRegistry;
  invoker: FunctionInvoker;
  taskHubName: string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  logger: EngineLogger;
  clock?: Clock;
}

/** Largest number of queued operations one entity runs in one batch. */
const maxEntityBatchSize = 100;
/** Longest wait before the engine looks for due timers again, as a guard against a missed wake-up. */
const maxWakeDelayInMilliseconds = 1_000;
const outOfProcDataLabel = '\n\n$OutOfProcData$:';

interface ActivityCompletion {
  row: ActivityRow;
  event: HistoryEvent;
}

function isTerminal(status: RuntimeStatus): boolean {
  return terminalStatuses.includes(status);
}

function parseJson(text: string | null | undefined): unknown {
  return text === null || text === undefined ? null : JSON.parse(text);
}

/**
 * A Durable Functions engine on SQLite that drives the app's orchestrations, activities and
 * entities through the real `durable-functions` library. Each state change is one transaction,
 * so after a crash every instance resumes from its last committed episode, and activities whose
 * result was not committed run again (at least once, as on Azure).
 */
export class DurableEngine implements DurableEngineApi {
  readonly taskHubName: string;
  readonly #store: EngineStore;
  readonly #registry: FunctionRegistry;
  readonly #invoker: FunctionInvoker;
  readonly #logger: EngineLogger;
  readonly #clock: Clock;
  readonly #maxActivities: number;
  readonly #maxOrchestrations: number;

  readonly #readyInstances = new Set<string>();
  readonly #runningInstances = new Set<string>();
  readonly #rerunInstances = new Set<string>();
  readonly #activityQueue: ActivityRow[] = [];
  #runningActivities = 0;
  #completions: ActivityCompletion[] = [];
  #flushScheduled = false;
  readonly #readyEntities = new Set<string>();
  readonly #runningEntities = new Set<string>();
  readonly #rerunEntities = new Set<string>();
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  #stopping = false;
  #started = false;
  readonly #idleWaiters: (() => void)[] = [];
  readonly #statusWaiters = new Map<string, Set<() => void>>();

  constructor(options: DurableEngineOptions) {
    this.taskHubName = options.taskHubName;
    this.#store = new EngineStore(openEngineDatabase(options.databasePath));
    this.#registry = options.registry;
    this.#invoker = options.invoker;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#maxActivities = Math.max(1, options.maxConcurrentActivityFunctions);
    this.#maxOrchestrations = Math.max(1, options.maxConcurrentOrchestratorFunctions);
  }

  /** Resumes persisted work: queued activities, due events and entity operations. */
  start(): void {
    this.#started = true;
    const activities = this.#store.statements.allActivities.all();
    for (const row of activities) {
      this.#activityQueue.push(row);
    }
    const entities = this.#store.statements.entitiesWithRequests.all();
    for (const { entity_id } of entities) {
      this.#kickEntity(entity_id);
    }
    this.#logger.info({ queuedActivities: activities.length, entitiesWithOperations: entities.length }, 'durable engine recovery started');
    this.#pumpActivities();
    this.wake();
  }

  /** Stops taking new work and waits until running invocations end or the grace period passes. */
  async stop(gracePeriodInMilliseconds = 10_000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#wakeTimer);
    const idle = new Promise<void>((resolve) => {
      if (this.#isIdle()) {
        resolve();
      } else {
        this.#idleWaiters.push(resolve);
      }
    });
    await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, gracePeriodInMilliseconds).unref())]);
    this.#flushCompletions();
    this.#store.db.close();
  }

  /** Looks for events that are due now, such as fired timers, and runs their instances. */
  wake(): void {
    if (this.#stopping || !this.#started) {
      return;
    }
    const now = this.#clock.nowInMilliseconds();
    for (const { instance_id } of this.#store.statements.instancesWithVisibleInbox.all(now)) {
      this.#kickInstance(instance_id);
    }
    this.#wakeAt = Number.POSITIVE_INFINITY;
    const next = this.#store.statements.nextInboxVisibleAt.get(now)?.at;
    this.#scheduleWake(next ?? now + maxWakeDelayInMilliseconds);
  }

  #scheduleWake(atInMilliseconds: number): void {
    if (this.#stopping || atInMilliseconds >= this.#wakeAt) {
      return;
    }
    clearTimeout(this.#wakeTimer);
    this.#wakeAt = atInMilliseconds;
    const delay = Math.min(Math.max(0, atInMilliseconds - this.#clock.nowInMilliseconds()), maxWakeDelayInMilliseconds);
    this.#wakeTimer = setTimeout(() => this.wake(), delay);
    this.#wakeTimer.unref();
  }

  #isIdle(): boolean {
    return this.#runningInstances.size === 0 && this.#runningActivities === 0 && this.#runningEntities.size === 0;
  }

  #notifyIdle(): void {
    if (this.#stopping && this.#isIdle()) {
      this.#idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }

  // ---------------------------------------------------------------- orchestrations

  #kickInstance(instanceId: string): void {
    if (this.#runningInstances.has(instanceId)) {
      this.#rerunInstances.add(instanceId);
      return;
    }
    this.#readyInstances.add(instanceId);
    this.#pumpOrchestrations();
  }

  #pumpOrchestrations(): void {
    while (!this.#stopping && this.#runningInstances.size < this.#maxOrchestrations && this.#readyInstances.size > 0) {
      const instanceId = this.#readyInstances.values().next().value as string;
      this.#readyInstances.delete(instanceId);
      this.#runningInstances.add(instanceId);
      void this.#runInstance(instanceId).finally(() => {
        this.#runningInstances.delete(instanceId);
        if (this.#rerunInstances.delete(instanceId)) {
          this.#readyInstances.add(instanceId);
        }
        this.#notifyIdle();
        this.#pumpOrchestrations();
      });
    }
  }

  async #runInstance(instanceId: string): Promise<void> {
    try {
      await this.#runEpisodeFor(instanceId);
    } catch (error) {
      this.#logger.error({ instanceId, err: error }, 'orchestration episode failed in the engine');
      this.#failInstanceAfterEngineError(instanceId, error);
    }
  }

  async #runEpisodeFor(instanceId: string): Promise<void> {
    const row = this.#store.getInstance(instanceId);
    const now = this.#clock.nowInMilliseconds();
    const inboxRows = this.#store.statements.getVisibleInbox.all(instanceId, now);
    if (!row) {
      this.#store.db.transaction(() => inboxRows.forEach((inbox) => this.#store.statements.deleteInboxRow.run(inbox.id)))();
      return;
    }
    if (row.runtime_status === 'Suspended') {
      return;
    }
    const current = inboxRows.filter((inbox) => inbox.execution_id === null || inbox.execution_id === row.execution_id);
    if (isTerminal(row.runtime_status) || current.length === 0) {
      this.#store.db.transaction(() => inboxRows.forEach((inbox) => this.#store.statements.deleteInboxRow.run(inbox.id)))();
      return;
    }

    const fn = this.#findFunction(row.name, 'orchestrationTrigger');
    const history = this.#store.getHistory(instanceId);
    const engineState = parseEngineState(row.engine_state);
    const input = parseJson(row.input);
    const startedAt = performance.now();
    const outcome = fn
      ? await runEpisode({
          instanceId,
          executionId: row.execution_id,
          history,
          inbox: current.map((inbox) => JSON.parse(inbox.event) as HistoryEvent),
          engineState,
          nowInMilliseconds: now,
          runOrchestrator: (fullHistory) => this.#invokeOrchestrator(fn, row, input, fullHistory),
        })
      : undefined;

    this.#store.db.transaction(() => {
      const latest = this.#store.getInstance(instanceId);
      if (!latest || latest.execution_id !== row.execution_id || isTerminal(latest.runtime_status) || latest.runtime_status === 'Suspended') {
        return;
      }
      for (const inbox of inboxRows) {
        this.#store.statements.deleteInboxRow.run(inbox.id);
      }
      if (!outcome) {
        const failure: FailureDetails = {
          ErrorType: 'FunctionNotFoundError',
          ErrorMessage: `Orchestrator function "${row.name}" is not registered by the app. Register it with df.app.orchestration("${row.name}", ...).`,
        };
        this.#completeInstance(latest, 'Failed', failure.ErrorMessage, failure, [historyEvent(EventType.ExecutionFailed, now, { Reason: failure.ErrorMessage })]);
        return;
      }
      this.#applyOutcome(latest, history.length, outcome, now);
    })();

    if (outcome) {
      this.#logger.info(
        {
          functionName: row.name,
          triggerType: 'orchestrationTrigger',
          instanceId,
          durationInMilliseconds: Math.round(performance.now() - startedAt),
          outcome: outcome.failure ? 'failed' : 'succeeded',
          runtimeStatus: outcome.runtimeStatus,
          ...(outcome.failure ? { error: outcome.failure.ErrorMessage } : {}),
        },
        'orchestration episode finished',
      );
    }
    this.#pumpActivities();
    this.#notifyStatus(instanceId);
  }

  async #invokeOrchestrator(fn: RegisteredFunction, row: InstanceRow, input: unknown, history: HistoryEvent[]): Promise<{ state: OrchestratorState; failure?: FailureDetails }> {
    const triggerInput = {
      history,
      input,
      instanceId: row.instance_id,
      isReplaying: history.some((event) => event.IsPlayed),
      parentInstanceId: row.parent_instance_id ?? undefined,
      // Schema V2: one action list per episode, with Task.all and Task.any as compound actions.
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 1,
      longRunningTimerIntervalDuration: '3.00:00:00',
      maximumShortTimerDuration: '6.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30_000,
    };
    try {
      const { result } = await this.#invoker.invoke(fn, { triggerData: { string: JSON.stringify(triggerInput) } });
      return { state: result as OrchestratorState };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const labelAt = message.indexOf(outOfProcDataLabel);
      if (labelAt < 0) {
        return { state: { isDone: false, actions: [] }, failure: toFailureDetails(error) };
      }
      const state = JSON.parse(message.slice(labelAt + outOfProcDataLabel.length)) as OrchestratorState & { failureDetails?: FailureDetails };
      const failure: FailureDetails = state.failureDetails ?? { ErrorType: 'Error', ErrorMessage: state.error ?? 'The orchestrator failed without a message.' };
      return { state, failure: { ...failure, ErrorMessage: state.error ?? failure.ErrorMessage } };
    }
  }

  #applyOutcome(row: InstanceRow, historyLength: number, outcome: EpisodeOutcome, now: number): void {
    const statements = this.#store.statements;
    const instanceId = row.instance_id;
    const customStatus = outcome.customStatus === undefined ? null : JSON.stringify(outcome.customStatus);

    if (outcome.continueAsNew && outcome.runtimeStatus === 'Running') {
      const executionId = randomUUID();
      statements.deleteHistory.run(instanceId);
      statements.deleteActivities.run(instanceId);
      const input = outcome.continueAsNew.input === undefined ? null : JSON.stringify(outcome.continueAsNew.input);
      statements.updateInstance.run({
        instance_id: instanceId,
        execution_id: executionId,
        runtime_status: 'Running',
        input,
        output: null,
        custom_status: customStatus,
        last_updated_at: now,
        engine_state: JSON.stringify(emptyEngineState()),
      });
      this.#store.insertInbox(instanceId, executionId, historyEvent(EventType.ExecutionStarted, now, { Name: row.name, Input: input ?? undefined }), now);
      this.#kickInstanceSoon(instanceId);
      return;
    }

    this.#store.appendHistory(instanceId, historyLength, outcome.newHistory);
    for (const { event, visibleAtInMilliseconds } of outcome.ownInbox) {
      this.#store.insertInbox(instanceId, row.execution_id, event, visibleAtInMilliseconds);
      this.#scheduleWake(visibleAtInMilliseconds);
    }
    for (const activity of outcome.activities) {
      const result = statements.insertActivity.run(instanceId, row.execution_id, activity.taskId, activity.name, activity.input ?? null);
      this.#activityQueue.push({
        id: Number(result.lastInsertRowid),
        instance_id: instanceId,
        execution_id: row.execution_id,
        task_id: activity.taskId,
        name: activity.name,
        input: activity.input ?? null,
      });
    }
    for (const child of outcome.subOrchestrations) {
      this.#createSubOrchestration(row, child, now);
    }
    for (const request of outcome.entityRequests) {
      statements.insertEntityRequest.run({
        entity_id: request.entityId,
        operation: request.operation,
        input: request.input ?? null,
        is_signal: request.isSignal ? 1 : 0,
        request_id: request.requestId,
        parent_instance_id: request.isSignal ? null : instanceId,
        parent_execution_id: request.isSignal ? null : row.execution_id,
      });
      this.#kickEntitySoon(request.entityId);
    }

    if (outcome.runtimeStatus === 'Completed' || outcome.runtimeStatus === 'Failed') {
      this.#completeInstance(row, outcome.runtimeStatus, outcome.output, outcome.failure, [], customStatus, outcome.engineState);
      return;
    }
    statements.updateInstance.run({
      instance_id: instanceId,
      execution_id: row.execution_id,
      runtime_status: 'Running',
      input: row.input,
      output: null,
      custom_status: customStatus,
      last_updated_at: now,
      engine_state: JSON.stringify(outcome.engineState),
    });
  }

  #createSubOrchestration(parent: InstanceRow, child: EpisodeOutcome['subOrchestrations'][number], now: number): void {
    const existing = this.#store.getInstance(child.instanceId);
    if (existing && !isTerminal(existing.runtime_status)) {
      const failure: FailureDetails = {
        ErrorType: 'InstanceExistsError',
        ErrorMessage: `Sub-orchestration instance "${child.instanceId}" already exists and is ${existing.runtime_status}. Use another instance id.`,
      };
      this.#store.insertInbox(parent.instance_id, parent.execution_id, historyEvent(EventType.SubOrchestrationInstanceFailed, now, { TaskScheduledId: child.taskId, ...failureFields(failure) }), now);
      this.#kickInstanceSoon(parent.instance_id);
      return;
    }
    if (existing) {
      this.#store.deleteInstanceData(child.instanceId);
    }
    const executionId = randomUUID();
    this.#store.statements.insertInstance.run({
      instance_id: child.instanceId,
      execution_id: executionId,
      name: child.name,
      runtime_status: 'Pending',
      input: child.input ?? null,
      created_at: now,
      parent_instance_id: parent.instance_id,
      parent_execution_id: parent.execution_id,
      parent_task_id: child.taskId,
    });
    this.#store.insertInbox(child.instanceId, executionId, historyEvent(EventType.ExecutionStarted, now, { Name: child.name, Input: child.input }), now);
    this.#kickInstanceSoon(child.instanceId);
  }

  /** Marks an instance terminal inside the caller's transaction and tells its parent, if any. */
  #completeInstance(
    row: InstanceRow,
    status: 'Completed' | 'Failed' | 'Terminated',
    output: unknown,
    failure: FailureDetails | undefined,
    extraHistory: HistoryEvent[],
    customStatus: string | null = row.custom_status,
    engineState = parseEngineState(row.engine_state),
  ): void {
    const now = this.#clock.nowInMilliseconds();
    if (extraHistory.length > 0) {
      const length = this.#store.statements.countHistory.get(row.instance_id)?.count ?? 0;
      this.#store.appendHistory(row.instance_id, length, extraHistory);
    }
    this.#store.statements.updateInstance.run({
      instance_id: row.instance_id,
      execution_id: row.execution_id,
      runtime_status: status,
      input: row.input,
      output: output === undefined ? null : JSON.stringify(output),
      custom_status: customStatus,
      last_updated_at: now,
      engine_state: JSON.stringify(engineState),
    });
    this.#store.statements.deleteInbox.run(row.instance_id);
    this.#store.statements.deleteActivities.run(row.instance_id);

    if (row.parent_instance_id && row.parent_task_id !== null) {
      const event =
        status === 'Completed'
          ? historyEvent(EventType.SubOrchestrationInstanceCompleted, now, { TaskScheduledId: row.parent_task_id, Result: JSON.stringify(output ?? null) })
          : historyEvent(EventType.SubOrchestrationInstanceFailed, now, {
              TaskScheduledId: row.parent_task_id,
              ...failureFields(failure ?? { ErrorType: 'TerminatedError', ErrorMessage: `Sub-orchestration "${row.instance_id}" was ${status.toLowerCase()}.` }),
            });
      this.#store.insertInbox(row.parent_instance_id, row.parent_execution_id, event, now);
      this.#kickInstanceSoon(row.parent_instance_id);
    }
  }

  #failInstanceAfterEngineError(instanceId: string, error: unknown): void {
    try {
      const failure = toFailureDetails(error);
      const message = `The local durable engine failed while running this instance: ${failure.ErrorMessage}`;
      this.#store.db.transaction(() => {
        const row = this.#store.getInstance(instanceId);
        if (row && !isTerminal(row.runtime_status)) {
          this.#completeInstance(row, 'Failed', message, { ...failure, ErrorMessage: message }, []);
        }
      })();
      this.#notifyStatus(instanceId);
    } catch (nested) {
      this.#logger.error({ instanceId, err: nested }, 'could not record the engine failure of an instance');
    }
  }

  /** Runs an instance after the current transaction commits. */
  #kickInstanceSoon(instanceId: string): void {
    setImmediate(() => this.#kickInstance(instanceId));
  }

  #findFunction(name: string, triggerType: string): RegisteredFunction | undefined {
    const exact = this.#registry.getFunction(name);
    const candidates = exact ? [exact] : [...this.#registry.functions.values()].filter((fn) => fn.name.toLowerCase() === name.toLowerCase());
    return candidates.find((fn) => fn.trigger.type === triggerType);
  }

  // ---------------------------------------------------------------- activities

  #pumpActivities(): void {
    while (!this.#stopping && this.#runningActivities < this.#maxActivities && this.#activityQueue.length > 0) {
      const row = this.#activityQueue.shift() as ActivityRow;
      this.#runningActivities++;
      void this.#runActivity(row).finally(() => {
        this.#runningActivities--;
        this.#notifyIdle();
        this.#pumpActivities();
      });
    }
  }

  async #runActivity(row: ActivityRow): Promise<void> {
    const startedAt = performance.now();
    const fn = this.#findFunction(row.name, 'activityTrigger');
    let event: HistoryEvent;
    let invocationId: string | undefined;
    if (!fn) {
      const failure: FailureDetails = {
        ErrorType: 'FunctionNotFoundError',
        ErrorMessage: `Activity function "${row.name}" is not registered by the app. Register it with df.app.activity("${row.name}", ...).`,
      };
      event = historyEvent(EventType.TaskFailed, this.#clock.nowInMilliseconds(), { TaskScheduledId: row.task_id, ...failureFields(failure) });
    } else {
      try {
        const invocation = await this.#invoker.invoke(fn, { triggerData: { json: row.input ?? 'null' } });
        invocationId = invocation.invocationId;
        const result = invocation.result === undefined ? 'null' : JSON.stringify(invocation.result);
        event = historyEvent(EventType.TaskCompleted, this.#clock.nowInMilliseconds(), { TaskScheduledId: row.task_id, Result: result ?? 'null' });
      } catch (error) {
        event = historyEvent(EventType.TaskFailed, this.#clock.nowInMilliseconds(), { TaskScheduledId: row.task_id, ...failureFields(toFailureDetails(error)) });
      }
    }
    const failed = event.EventType === EventType.TaskFailed;
    this.#logger.info(
      {
        functionName: row.name,
        triggerType: 'activityTrigger',
        invocationId,
        instanceId: row.instance_id,
        durationInMilliseconds: Math.round(performance.now() - startedAt),
        outcome: failed ? 'failed' : 'succeeded',
        ...(failed ? { error: event.Reason } : {}),
      },
      'activity finished',
    );
    this.#completions.push({ row, event });
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flushCompletions());
    }
  }

  /** Commits every activity result that is ready in one transaction, so a fan-out costs few commits and few episodes. */
  #flushCompletions(): void {
    this.#flushScheduled = false;
    const completions = this.#completions;
    this.#completions = [];
    if (completions.length === 0 || !this.#store.db.open) {
      return;
    }
    const touched = new Set<string>();
    this.#store.db.transaction(() => {
      for (const { row, event } of completions) {
        this.#store.statements.deleteActivity.run(row.id);
        const instance = this.#store.getInstance(row.instance_id);
        if (!instance || instance.execution_id !== row.execution_id || isTerminal(instance.runtime_status)) {
          continue;
        }
        this.#store.insertInbox(row.instance_id, row.execution_id, event, 0);
        touched.add(row.instance_id);
      }
    })();
    for (const instanceId of touched) {
      this.#kickInstance(instanceId);
    }
  }

  // ---------------------------------------------------------------- entities

  #kickEntity(entityId: string): void {
    if (this.#runningEntities.has(entityId)) {
      this.#rerunEntities.add(entityId);
      return;
    }
    this.#readyEntities.add(entityId);
    this.#pumpEntities();
  }

  #kickEntitySoon(entityId: string): void {
    setImmediate(() => this.#kickEntity(entityId));
  }

  #pumpEntities(): void {
    while (!this.#stopping && this.#runningEntities.size < this.#maxOrchestrations && this.#readyEntities.size > 0) {
      const entityId = this.#readyEntities.values().next().value as string;
      this.#readyEntities.delete(entityId);
      this.#runningEntities.add(entityId);
      void this.#runEntityBatch(entityId)
        .catch((error) => this.#logger.error({ entityId, err: error }, 'entity batch failed in the engine'))
        .finally(() => {
          this.#runningEntities.delete(entityId);
          if (this.#rerunEntities.delete(entityId)) {
            this.#readyEntities.add(entityId);
          }
          this.#notifyIdle();
          this.#pumpEntities();
        });
    }
  }

  async #runEntityBatch(entityId: string): Promise<void> {
    const requests = this.#store.statements.entityRequests.all(entityId, maxEntityBatchSize);
    if (requests.length === 0) {
      return;
    }
    const { name, key } = parseEntityId(entityId);
    const entity = this.#store.statements.getEntity.get(entityId);
    const fn = this.#findFunction(name, 'entityTrigger');
    const startedAt = performance.now();
    let batchResult: EntityBatchResult;
    if (!fn) {
      const message = `Entity function "${name}" is not registered by the app. Register it with df.app.entity("${name}", ...).`;
      batchResult = { results: requests.map(() => ({ isError: true, result: JSON.stringify(message) })), signals: [], entityExists: false };
    } else {
      const triggerInput = {
        self: { name, key },
        exists: entity ? entity.entity_exists === 1 : false,
        state: entity?.state ?? undefined,
        batch: requests.map((request) => ({ id: request.request_id, name: request.operation, input: request.input ?? undefined, isSignal: request.is_signal === 1 })),
      };
      try {
        const { result } = await this.#invoker.invoke(fn, { triggerData: { string: JSON.stringify(triggerInput) } });
        batchResult = result as EntityBatchResult;
      } catch (error) {
        const message = `Entity "${entityId}" failed: ${toFailureDetails(error).ErrorMessage}`;
        batchResult = {
          results: requests.map(() => ({ isError: true, result: JSON.stringify(message) })),
          signals: [],
          entityExists: triggerInput.exists,
          entityState: triggerInput.state,
        };
      }
    }
    this.#logger.info({ functionName: fn?.name ?? name, triggerType: 'entityTrigger', entityId, operations: requests.length, durationInMilliseconds: Math.round(performance.now() - startedAt) }, 'entity batch finished');

    const now = this.#clock.nowInMilliseconds();
    this.#store.db.transaction(() => {
      this.#store.statements.upsertEntity.run({
        entity_id: entityId,
        name,
        key,
        state: batchResult.entityExists ? (batchResult.entityState ?? null) : null,
        entity_exists: batchResult.entityExists ? 1 : 0,
        last_modified_at: now,
      });
      this.#store.statements.deleteEntityRequestsUpTo.run(entityId, requests[requests.length - 1].id);
      requests.forEach((request, index) => {
        if (request.is_signal === 1 || !request.parent_instance_id) {
          return;
        }
        const operationResult = batchResult.results[index] ?? { isError: true, result: JSON.stringify('The entity returned no result for this operation.') };
        const response = operationResult.isError
          ? { exceptionType: 'Error', result: entityErrorText(operationResult.result, request.operation, entityId) }
          : { result: operationResult.result };
        this.#store.insertInbox(
          request.parent_instance_id,
          request.parent_execution_id,
          historyEvent(EventType.EventRaised, now, { Name: request.request_id, Input: JSON.stringify(response) }),
          now,
        );
        this.#kickInstanceSoon(request.parent_instance_id);
      });
      for (const signal of batchResult.signals) {
        const targetId = formatEntityId(signal.target.name, signal.target.key);
        this.#store.statements.insertEntityRequest.run({
          entity_id: targetId,
          operation: signal.name,
          input: signal.input || null,
          is_signal: 1,
          request_id: randomUUID(),
          parent_instance_id: null,
          parent_execution_id: null,
        });
        this.#kickEntitySoon(targetId);
      }
    })();
    if (requests.length === maxEntityBatchSize) {
      this.#rerunEntities.add(entityId);
    }
  }

  // ---------------------------------------------------------------- management API

  hasOrchestration(name: string): boolean {
    return this.#findFunction(name, 'orchestrationTrigger') !== undefined;
  }

  hasEntity(name: string): boolean {
    return this.#findFunction(name, 'entityTrigger') !== undefined;
  }

  startOrchestration(name: string, instanceId: string | undefined, input: unknown): StartResult {
    const id = instanceId ?? randomUUID().replaceAll('-', '');
    const now = this.#clock.nowInMilliseconds();
    const inputText = input === undefined ? null : JSON.stringify(input);
    const result = this.#store.db.transaction((): StartResult => {
      const existing = this.#store.getInstance(id);
      if (existing && !isTerminal(existing.runtime_status)) {
        return { created: false, instanceId: id, reason: `Instance "${id}" already exists and is ${existing.runtime_status}.` };
      }
      if (existing) {
        this.#store.deleteInstanceData(id);
      }
      const executionId = randomUUID();
      this.#store.statements.insertInstance.run({
        instance_id: id,
        execution_id: executionId,
        name,
        runtime_status: 'Pending',
        input: inputText,
        created_at: now,
        parent_instance_id: null,
        parent_execution_id: null,
        parent_task_id: null,
      });
      this.#store.insertInbox(id, executionId, historyEvent(EventType.ExecutionStarted, now, { Name: name, Input: inputText ?? undefined }), now);
      return { created: true, instanceId: id };
    })();
    if (result.created) {
      this.#kickInstance(id);
    }
    return result;
  }

  getStatus(instanceId: string, options: StatusOptions = {}): InstanceStatus | undefined {
    const row = this.#store.getInstance(instanceId);
    if (!row) {
      return undefined;
    }
    const status = this.#toStatus(row, options.showInput ?? true);
    if (options.showHistory) {
      status.historyEvents = this.#store.getHistory(instanceId).map((event) => toManagementHistoryEvent(event, options.showHistoryOutput ?? false));
    }
    return status;
  }

  #toStatus(row: InstanceRow, showInput: boolean): InstanceStatus {
    return {
      name: row.name,
      instanceId: row.instance_id,
      runtimeStatus: row.runtime_status,
      input: showInput ? parseJson(row.input) : null,
      output: parseJson(row.output),
      customStatus: parseJson(row.custom_status),
      createdTime: new Date(row.created_at).toISOString(),
      lastUpdatedTime: new Date(row.last_updated_at).toISOString(),
    };
  }

  listInstances(filter: ListFilter): ListPage {
    const conditions: string[] = [];
    const parameters: (string | number)[] = [];
    if (filter.runtimeStatus && filter.runtimeStatus.length > 0) {
      conditions.push(`runtime_status IN (${filter.runtimeStatus.map(() => '?').join(', ')})`);
      parameters.push(...filter.runtimeStatus);
    }
    if (filter.createdTimeFrom) {
      conditions.push('created_at >= ?');
      parameters.push(filter.createdTimeFrom.getTime());
    }
    if (filter.createdTimeTo) {
      conditions.push('created_at <= ?');
      parameters.push(filter.createdTimeTo.getTime());
    }
    if (filter.instanceIdPrefix) {
      conditions.push("instance_id >= ? AND instance_id < ? || char(1114111)");
      parameters.push(filter.instanceIdPrefix, filter.instanceIdPrefix);
    }
    if (filter.continuationToken) {
      const position = decodeContinuationToken(filter.continuationToken);
      conditions.push('(created_at > ? OR (created_at = ? AND instance_id > ?))');
      parameters.push(position.createdAt, position.createdAt, position.instanceId);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const limit = filter.top !== undefined && filter.top > 0 ? filter.top : -1;
    const rows = this.#store.db
      .prepare<unknown[], InstanceRow>(`SELECT * FROM instances ${where} ORDER BY created_at, instance_id LIMIT ?`)
      .all(...parameters, limit === -1 ? -1 : limit + 1);
    const hasMore = limit !== -1 && rows.length > limit;
    const page = hasMore ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return {
      instances: page.map((row) => this.#toStatus(row, filter.showInput ?? false)),
      continuationToken: hasMore && last ? encodeContinuationToken(last.created_at, last.instance_id) : undefined,
    };
  }

  raiseEvent(instanceId: string, eventName: string, data: unknown): 'raised' | 'notFound' | 'notRunning' {
    const now = this.#clock.nowInMilliseconds();
    const result = this.#store.db.transaction(() => {
      const row = this.#store.getInstance(instanceId);
      if (!row) {
        return 'notFound' as const;
      }
      if (isTerminal(row.runtime_status)) {
        return 'notRunning' as const;
      }
      const input = data === undefined ? undefined : JSON.stringify(data);
      this.#store.insertInbox(instanceId, row.execution_id, historyEvent(EventType.EventRaised, now, { Name: eventName, Input: input }), now);
      return 'raised' as const;
    })();
    if (result === 'raised') {
      this.#kickInstance(instanceId);
    }
    return result;
  }

  terminate(instanceId: string, reason: string): 'terminated' | 'notFound' | 'notRunning' {
    const now = this.#clock.nowInMilliseconds();
    const result = this.#store.db.transaction(() => {
      const row = this.#store.getInstance(instanceId);
      if (!row) {
        return 'notFound' as const;
      }
      if (isTerminal(row.runtime_status)) {
        return 'notRunning' as const;
      }
      this.#completeInstance(row, 'Terminated', reason, { ErrorType: 'TerminatedError', ErrorMessage: `Instance "${instanceId}" was terminated: ${reason}` }, [
        historyEvent(EventType.ExecutionTerminated, now, { Input: JSON.stringify(reason) }),
      ]);
      return 'terminated' as const;
    })();
    this.#notifyStatus(instanceId);
    return result;
  }

  suspend(instanceId: string, reason: string): 'suspended' | 'notFound' | 'notRunning' {
    return this.#store.db.transaction(() => {
      const row = this.#store.getInstance(instanceId);
      if (!row) {
        return 'notFound' as const;
      }
      if (isTerminal(row.runtime_status) || row.runtime_status === 'Suspended') {
        return 'notRunning' as const;
      }
      this.#store.statements.setStatus.run('Suspended', row.output, this.#clock.nowInMilliseconds(), instanceId);
      this.#logger.info({ instanceId, reason }, 'instance suspended');
      return 'suspended' as const;
    })();
  }

  resume(instanceId: string, reason: string): 'resumed' | 'notFound' | 'notSuspended' {
    const result = this.#store.db.transaction(() => {
      const row = this.#store.getInstance(instanceId);
      if (!row) {
        return 'notFound' as const;
      }
      if (row.runtime_status !== 'Suspended') {
        return 'notSuspended' as const;
      }
      this.#store.statements.setStatus.run('Running', row.output, this.#clock.nowInMilliseconds(), instanceId);
      this.#logger.info({ instanceId, reason }, 'instance resumed');
      return 'resumed' as const;
    })();
    if (result === 'resumed') {
      this.#kickInstance(instanceId);
    }
    return result;
  }

  purgeInstance(instanceId: string): number {
    return this.#store.db.transaction(() => {
      const row = this.#store.getInstance(instanceId);
      if (!row || !isTerminal(row.runtime_status)) {
        return 0;
      }
      this.#store.deleteInstanceData(instanceId);
      return 1;
    })();
  }

  purgeInstances(filter: { createdTimeFrom?: Date; createdTimeTo?: Date; runtimeStatus?: RuntimeStatus[] }): number {
    const statuses = (filter.runtimeStatus && filter.runtimeStatus.length > 0 ? filter.runtimeStatus : terminalStatuses).filter(isTerminal);
    const page = this.listInstances({ runtimeStatus: statuses, createdTimeFrom: filter.createdTimeFrom, createdTimeTo: filter.createdTimeTo });
    return this.#store.db.transaction(() => {
      for (const instance of page.instances) {
        this.#store.deleteInstanceData(instance.instanceId);
      }
      return page.instances.length;
    })();
  }

  signalEntity(name: string, key: string, operation: string, input: unknown): void {
    const entityId = formatEntityId(name, key);
    this.#store.statements.insertEntityRequest.run({
      entity_id: entityId,
      operation,
      input: input === undefined ? null : JSON.stringify(input),
      is_signal: 1,
      request_id: randomUUID(),
      parent_instance_id: null,
      parent_execution_id: null,
    });
    this.#kickEntity(entityId);
  }

  readEntity(name: string, key: string): EntityStateResult {
    const row = this.#store.statements.getEntity.get(formatEntityId(name, key));
    if (!row || row.entity_exists !== 1) {
      return { exists: false, state: undefined };
    }
    return { exists: true, state: parseJson(row.state) };
  }

  async waitForCompletion(instanceId: string, timeoutInMilliseconds: number): Promise<InstanceStatus | undefined> {
    const deadline = Date.now() + timeoutInMilliseconds;
    for (;;) {
      const status = this.getStatus(instanceId, { showInput: true });
      if (!status || isTerminal(status.runtimeStatus) || Date.now() >= deadline) {
        return status;
      }
      await new Promise<void>((resolve) => {
        const waiters = this.#statusWaiters.get(instanceId) ?? new Set<() => void>();
        this.#statusWaiters.set(instanceId, waiters);
        const timer = setTimeout(done, Math.min(250, Math.max(0, deadline - Date.now())));
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  #notifyStatus(instanceId: string): void {
    const waiters = this.#statusWaiters.get(instanceId);
    if (!waiters) {
      return;
    }
    this.#statusWaiters.delete(instanceId);
    waiters.forEach((resolve) => resolve());
  }
}

function entityErrorText(result: string | undefined, operation: string, entityId: string): string {
  const fallback = `Operation "${operation}" on entity "${entityId}" failed.`;
  if (!result || result === '{}') {
    return JSON.stringify(fallback);
  }
  return result;
}

function encodeContinuationToken(createdAt: number, instanceId: string): string {
  return Buffer.from(JSON.stringify({ createdAt, instanceId })).toString('base64url');
}

function decodeContinuationToken(token: string): { createdAt: number; instanceId: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { createdAt: number; instanceId: string };
    if (typeof parsed.createdAt === 'number' && typeof parsed.instanceId === 'string') {
      return parsed;
    }
  } catch {
    // Reported below with the value.
  }
  throw new RangeError(`Continuation token "${token}" is invalid. Pass the x-ms-continuation-token value of the previous page unchanged.`);
}
