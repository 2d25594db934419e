import { randomUUID } from 'node:crypto';
import type { Invoker } from '../functionsCore/invoker';
import type { FunctionRegistry, RegisteredFunction } from '../functionsCore/registry';
import { systemClock, type Clock } from './clock';
import { openEngineDatabase } from './database';
import { ActivityRunner } from './activityRunner';
import type { EngineContext, EngineLogger } from './engineContext';
import { emptyEngineState, parseEngineState } from './engineState';
import { formatEntityId } from './entityBatch';
import { EntityRunner } from './entityRunner';
import { EventType, failureFields, historyEvent, toFailureDetails, toManagementHistory, type FailureDetails } from './historyEvents';
import { GroupCommitter } from '../../lib/sqlite/groupCommitter';
import { listEntities, listInstances, parseJson, toInstanceStatus } from './instanceQueries';
import { KeyedWorkQueue } from './keyedWorkQueue';
import { runEpisode, type EpisodeOutcome, type OrchestratorState } from './orchestrationEpisode';
import { planRewind } from './rewind';
import { EngineStore, type ActivityRow, type InstanceRow } from './store';
import {
  terminalStatuses,
  type DurableEngineApi,
  type EntityListFilter,
  type EntityListPage,
  type EntityStateResult,
  type HistoryEvent,
  type InstanceStatus,
  type ListFilter,
  type ListPage,
  type RuntimeStatus,
  type StartResult,
  type StatusOptions,
} from './types';

export type { EngineLogger } from './engineContext';

export interface DurableEngineOptions {
  databasePath: string;
  registry: FunctionRegistry;
  invoker: Invoker;
  taskHubName: string;
  maxConcurrentActivityFunctions: number;
  maxConcurrentOrchestratorFunctions: number;
  logger: EngineLogger;
  clock?: Clock;
  /** host.json `functionTimeout`: an activity that runs longer is reported failed and its late result is discarded. */
  functionTimeoutInMilliseconds?: number;
}

/** Maximum wait before the engine looks for due timers again, as a guard against a missed wake-up. */
const maxWakeDelayInMilliseconds = 1_000;
/** Maximum delay of an episode that waits for more activity results of the same instance. */
const maxResultBatchingDelayInMilliseconds = 250;
const outOfProcDataLabel = '\n\n$OutOfProcData$:';

function isTerminal(status: RuntimeStatus): boolean {
  return terminalStatuses.includes(status);
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
  readonly #invoker: Invoker;
  readonly #logger: EngineLogger;
  readonly #clock: Clock;
  readonly #instances: KeyedWorkQueue;
  readonly #committer: GroupCommitter;
  /** Duration of each instance's last episode, which sets how long its next one may wait for more results. */
  readonly #lastEpisodeDurations = new Map<string, number>();
  readonly #delayedKicks = new Map<string, NodeJS.Timeout>();
  readonly #activities: ActivityRunner;
  readonly #entities: EntityRunner;
  #wakeTimer: NodeJS.Timeout | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;
  #stopping = false;
  #started = false;
  readonly #idleWaiters: (() => void)[] = [];
  readonly #statusWaiters = new Map<string, Set<() => void>>();

  constructor(options: DurableEngineOptions) {
    this.taskHubName = options.taskHubName;
    const database = openEngineDatabase(options.databasePath);
    this.#store = new EngineStore(database.db);
    this.#registry = options.registry;
    this.#invoker = options.invoker;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#committer = new GroupCommitter(this.#store.db, database.walSync);
    const context: EngineContext = {
      store: this.#store,
      invoker: this.#invoker,
      logger: this.#logger,
      clock: this.#clock,
      findFunction: (name, triggerType) => this.#findFunction(name, triggerType),
      kickInstanceSoon: (instanceId) => this.#kickInstanceSoon(instanceId),
      kickAfterActivityResults: (instanceId, outstandingActivities) => this.#kickAfterActivityResults(instanceId, outstandingActivities),
      committer: this.#committer,
    };
    const onSettled = () => this.#notifyIdle();
    this.#instances = new KeyedWorkQueue(options.maxConcurrentOrchestratorFunctions, (instanceId) => this.#runInstance(instanceId), onSettled);
    this.#activities = new ActivityRunner(context, options.maxConcurrentActivityFunctions, onSettled, options.functionTimeoutInMilliseconds);
    this.#entities = new EntityRunner(context, options.maxConcurrentOrchestratorFunctions, onSettled);
  }

  /** Resumes persisted work: queued activities, due events and entity operations. */
  start(): void {
    this.#started = true;
    const activities = this.#store.statements.allActivities.all();
    for (const row of activities) {
      this.#activities.enqueue(row);
    }
    const entities = this.#store.statements.entitiesWithRequests.all();
    for (const { entity_id } of entities) {
      this.#entities.kick(entity_id);
    }
    this.#logger.info({ queuedActivities: activities.length, entitiesWithOperations: entities.length }, 'durable engine recovery started');
    this.#activities.pump();
    this.wake();
  }

  /** Stops taking new work and waits until running invocations end or the grace period passes. */
  async stop(gracePeriodInMilliseconds = 10_000): Promise<void> {
    this.#stopping = true;
    this.#instances.stop();
    this.#activities.stop();
    this.#entities.stop();
    clearTimeout(this.#wakeTimer);
    const idle = new Promise<void>((resolve) => {
      if (this.#isIdle()) {
        resolve();
      } else {
        this.#idleWaiters.push(resolve);
      }
    });
    await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, gracePeriodInMilliseconds).unref())]);
    this.#delayedKicks.forEach((timer) => clearTimeout(timer));
    this.#activities.flush();
    this.#committer.flush();
    await this.#committer.durable();
    this.#committer.close();
    this.#store.db.close();
  }

  /** Looks for events that are due now, such as fired timers, and runs their instances. */
  wake(): void {
    if (this.#stopping || !this.#started) {
      return;
    }
    const now = this.#clock.nowInMilliseconds();
    for (const { instance_id } of this.#store.statements.instancesWithVisibleInbox.all(now)) {
      this.#instances.kick(instance_id);
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
    return this.#instances.runningCount === 0 && this.#activities.runningCount === 0 && this.#entities.runningCount === 0;
  }

  #notifyIdle(): void {
    if (this.#stopping && this.#isIdle()) {
      this.#idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }

  // ---------------------------------------------------------------- orchestrations

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

    const scheduledActivities: ActivityRow[] = [];
    await this.#committer.commit(() => {
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
      this.#applyOutcome(latest, history.length, outcome, now, scheduledActivities);
    });
    // Queued only now: a change that rolled back must not run activities.
    scheduledActivities.forEach((activity) => this.#activities.enqueue(activity));

    const durationInMilliseconds = performance.now() - startedAt;
    if (outcome && !isTerminal(outcome.runtimeStatus)) {
      this.#lastEpisodeDurations.set(instanceId, durationInMilliseconds);
    } else {
      this.#lastEpisodeDurations.delete(instanceId);
    }
    if (outcome) {
      this.#logger.info(
        {
          functionName: row.name,
          triggerType: 'orchestrationTrigger',
          instanceId,
          durationInMilliseconds: Math.round(durationInMilliseconds),
          outcome: outcome.failure ? 'failed' : 'succeeded',
          runtimeStatus: outcome.runtimeStatus,
          ...(outcome.failure ? { error: outcome.failure.ErrorMessage } : {}),
        },
        'orchestration episode finished',
      );
    }
    this.#activities.pump();
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

  #applyOutcome(row: InstanceRow, historyLength: number, outcome: EpisodeOutcome, now: number, scheduledActivities: ActivityRow[]): void {
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
      scheduledActivities.push({
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
      this.#entities.kickSoon(request.entityId);
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

  /** Marks an instance terminal inside the caller's transaction and notifies its parent, if any. */
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

  /**
   * Runs an episode for new activity results. While the instance still waits for other
   * activities, the episode is delayed by up to four times the last episode's duration (at most
   * `maxResultBatchingDelayInMilliseconds`), so that more results arrive with it. Every episode
   * replays the whole history, so without the delay a fan-out whose results trickle in would cost
   * O(N^2).
   */
  #kickAfterActivityResults(instanceId: string, outstandingActivities: number): void {
    if (outstandingActivities === 0) {
      clearTimeout(this.#delayedKicks.get(instanceId));
      this.#delayedKicks.delete(instanceId);
      this.#instances.kick(instanceId);
      return;
    }
    if (this.#delayedKicks.has(instanceId)) {
      return;
    }
    const lastDuration = this.#lastEpisodeDurations.get(instanceId) ?? 0;
    const delay = Math.min(maxResultBatchingDelayInMilliseconds, lastDuration * 4);
    if (delay < 1) {
      this.#instances.kick(instanceId);
      return;
    }
    const timer = setTimeout(() => {
      this.#delayedKicks.delete(instanceId);
      this.#instances.kick(instanceId);
    }, delay);
    timer.unref();
    this.#delayedKicks.set(instanceId, timer);
  }

  /** Runs an instance after the current transaction commits. */
  #kickInstanceSoon(instanceId: string): void {
    setImmediate(() => this.#instances.kick(instanceId));
  }

  #findFunction(name: string, triggerType: string): RegisteredFunction | undefined {
    const exact = this.#registry.getFunction(name);
    const candidates = exact ? [exact] : [...this.#registry.functions.values()].filter((fn) => fn.name.toLowerCase() === name.toLowerCase());
    return candidates.find((fn) => fn.trigger.type === triggerType);
  }

  // ---------------------------------------------------------------- management API

  hasOrchestration(name: string): boolean {
    return this.#findFunction(name, 'orchestrationTrigger') !== undefined;
  }

  hasEntity(name: string): boolean {
    return this.#findFunction(name, 'entityTrigger') !== undefined;
  }

  async startOrchestration(name: string, instanceId: string | undefined, input: unknown): Promise<StartResult> {
    const id = instanceId ?? randomUUID().replaceAll('-', '');
    const now = this.#clock.nowInMilliseconds();
    const inputText = input === undefined ? null : JSON.stringify(input);
    // Starts that arrive in the same event-loop turn share one commit, as episodes do.
    const result = await this.#committer.commit((): StartResult => {
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
    });
    if (result.created) {
      this.#instances.kick(id);
    }
    return result;
  }

  durable(): Promise<void> {
    return this.#committer.durable();
  }

  getStatus(instanceId: string, options: StatusOptions = {}): InstanceStatus | undefined {
    const row = this.#store.getInstance(instanceId);
    if (!row) {
      return undefined;
    }
    const status = toInstanceStatus(row, options.showInput ?? true);
    if (options.showHistory) {
      status.historyEvents = toManagementHistory(this.#store.getHistory(instanceId), options.showHistoryOutput ?? false);
    }
    return status;
  }

  listInstances(filter: ListFilter): ListPage {
    return listInstances(this.#store.db, filter);
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
      this.#instances.kick(instanceId);
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
      this.#instances.kick(instanceId);
    }
    return result;
  }

  rewind(instanceId: string, reason: string): 'rewound' | 'notFound' | 'notFailed' {
    const queuedActivities: ActivityRow[] = [];
    const rewound: string[] = [];
    const result = this.#store.db.transaction(() => this.#rewindInTransaction(instanceId, reason, queuedActivities, rewound))();
    for (const row of queuedActivities) {
      this.#activities.enqueue(row);
    }
    this.#activities.pump();
    for (const id of rewound) {
      this.#logger.info({ instanceId: id, reason }, 'instance rewound');
      this.#instances.kick(id);
    }
    return result;
  }

  #rewindInTransaction(instanceId: string, reason: string, queuedActivities: ActivityRow[], rewound: string[]): 'rewound' | 'notFound' | 'notFailed' {
    const row = this.#store.getInstance(instanceId);
    if (!row) {
      return 'notFound';
    }
    if (row.runtime_status !== 'Failed') {
      return 'notFailed';
    }
    const now = this.#clock.nowInMilliseconds();
    const plan = planRewind(this.#store.getHistory(instanceId), parseEngineState(row.engine_state), instanceId);

    this.#store.statements.deleteHistory.run(instanceId);
    this.#store.appendHistory(instanceId, 0, plan.keptHistory);
    // The orchestrator ignores a generic event; it records the rewind and its reason in the history.
    this.#store.appendHistory(instanceId, plan.keptHistory.length, [historyEvent(EventType.GenericEvent, now, { Data: `Rewound: ${reason}` })]);
    for (const event of plan.requeuedEvents) {
      this.#store.insertInbox(instanceId, row.execution_id, event, now);
    }
    const rerun = plan.rerun;
    if (rerun?.kind === 'activity') {
      const inserted = this.#store.statements.insertActivity.run(instanceId, row.execution_id, rerun.taskId, rerun.name, rerun.input ?? null);
      queuedActivities.push({
        id: Number(inserted.lastInsertRowid),
        instance_id: instanceId,
        execution_id: row.execution_id,
        task_id: rerun.taskId,
        name: rerun.name,
        input: rerun.input ?? null,
      });
    } else if (rerun?.kind === 'subOrchestration') {
      const child = this.#store.getInstance(rerun.childInstanceId);
      if (child && child.runtime_status === 'Failed' && child.parent_instance_id === instanceId) {
        this.#rewindInTransaction(child.instance_id, reason, queuedActivities, rewound);
      } else {
        this.#createSubOrchestration(row, { taskId: rerun.taskId, name: rerun.name, instanceId: rerun.childInstanceId, input: rerun.input }, now);
      }
    } else {
      // No task to run again: an event that the orchestrator ignores starts the next episode.
      this.#store.insertInbox(instanceId, row.execution_id, historyEvent(EventType.GenericEvent, now, { Data: 'rewind' }), now);
    }

    this.#store.statements.updateInstance.run({
      instance_id: instanceId,
      execution_id: row.execution_id,
      runtime_status: 'Running',
      input: row.input,
      output: null,
      custom_status: row.custom_status,
      last_updated_at: now,
      engine_state: JSON.stringify(plan.engineState),
    });
    rewound.push(instanceId);
    return 'rewound';
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
    // Only instances in a terminal status are purged, whatever the filter names.
    const statuses = (filter.runtimeStatus && filter.runtimeStatus.length > 0 ? filter.runtimeStatus : terminalStatuses).filter(isTerminal);
    if (statuses.length === 0) {
      return 0;
    }
    return this.#store.db.transaction(() => {
      const page = this.listInstances({ runtimeStatus: statuses, createdTimeFrom: filter.createdTimeFrom, createdTimeTo: filter.createdTimeTo });
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
    this.#entities.kick(entityId);
  }

  listEntities(name: string | undefined, filter: EntityListFilter): EntityListPage {
    return listEntities(this.#store.db, name, filter);
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
