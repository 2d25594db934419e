import { EventType, failureFields, historyEvent, toFailureDetails, type FailureDetails } from './historyEvents';
import type { EngineContext } from './engineContext';
import type { ActivityRow } from './store';
import { terminalStatuses, type HistoryEvent } from './types';

interface ActivityCompletion {
  row: ActivityRow;
  event: HistoryEvent;
}

/**
 * Runs queued activities with bounded concurrency and commits their results. Results that are
 * ready together are committed in one transaction and reach their instance in one episode, so a
 * fan-out of N costs a few commits and episodes instead of N.
 */
export class ActivityRunner {
  readonly #context: EngineContext;
  readonly #maxConcurrent: number;
  readonly #onSettled: () => void;
  readonly #queue: ActivityRow[] = [];
  /** Activities queued or running per instance, whose results are not committed yet. */
  readonly #outstanding = new Map<string, number>();
  #running = 0;
  #completions: ActivityCompletion[] = [];
  #flushScheduled = false;
  #stopped = false;
  readonly #timeoutInMilliseconds: number | undefined;

  constructor(context: EngineContext, maxConcurrent: number, onSettled: () => void, timeoutInMilliseconds?: number) {
    this.#context = context;
    this.#maxConcurrent = Math.max(1, maxConcurrent);
    this.#onSettled = onSettled;
    this.#timeoutInMilliseconds = timeoutInMilliseconds;
  }

  get runningCount(): number {
    return this.#running;
  }

  /** Queues activities whose rows are committed; call `pump` after the transaction. */
  enqueue(row: ActivityRow): void {
    this.#queue.push(row);
    this.#outstanding.set(row.instance_id, (this.#outstanding.get(row.instance_id) ?? 0) + 1);
  }

  stop(): void {
    this.#stopped = true;
  }

  pump(): void {
    while (!this.#stopped && this.#running < this.#maxConcurrent && this.#queue.length > 0) {
      const row = this.#queue.shift() as ActivityRow;
      this.#running++;
      void this.#run(row).finally(() => {
        this.#running--;
        this.#onSettled();
        this.pump();
      });
    }
  }

  async #run(row: ActivityRow): Promise<void> {
    const { clock, logger } = this.#context;
    const startedAt = performance.now();
    const fn = this.#context.findFunction(row.name, 'activityTrigger');
    let event: HistoryEvent;
    let invocationId: string | undefined;
    if (!fn) {
      const failure: FailureDetails = {
        ErrorType: 'FunctionNotFoundError',
        ErrorMessage: `Activity function "${row.name}" is not registered by the app. Register it with df.app.activity("${row.name}", ...).`,
      };
      event = historyEvent(EventType.TaskFailed, clock.nowInMilliseconds(), { TaskScheduledId: row.task_id, ...failureFields(failure) });
    } else {
      try {
        const invocation = await this.#withTimeout(row.name, this.#context.invoker.invoke(fn, { triggerData: { json: row.input ?? 'null' } }));
        invocationId = invocation.invocationId;
        // A completed activity's result must be JSON text, so undefined becomes "null".
        const result = invocation.result === undefined ? 'null' : JSON.stringify(invocation.result);
        event = historyEvent(EventType.TaskCompleted, clock.nowInMilliseconds(), { TaskScheduledId: row.task_id, Result: result ?? 'null' });
      } catch (error) {
        event = historyEvent(EventType.TaskFailed, clock.nowInMilliseconds(), { TaskScheduledId: row.task_id, ...failureFields(toFailureDetails(error)) });
      }
    }

    const failed = event.EventType === EventType.TaskFailed;
    logger.info(
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
      setImmediate(() => this.flush());
    }
  }

  /**
   * Rejects with a timeout error when `work` runs longer than `functionTimeout`. The activity
   * itself cannot be stopped, so its late result is ignored: only the timeout is recorded.
   */
  #withTimeout<T>(name: string, work: Promise<T>): Promise<T> {
    const timeoutInMilliseconds = this.#timeoutInMilliseconds;
    if (timeoutInMilliseconds === undefined) {
      return work;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`Activity "${name}" timed out after ${timeoutInMilliseconds} ms (host.json functionTimeout). Make it faster or raise functionTimeout.`);
        error.name = 'FunctionTimeoutError';
        reject(error);
      }, timeoutInMilliseconds);
    });
    work.catch(() => undefined);
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /** Commits every result that is ready. A result for an instance that ended or restarted meanwhile is dropped. */
  flush(): void {
    this.#flushScheduled = false;
    const completions = this.#completions;
    this.#completions = [];
    const { store } = this.#context;
    if (completions.length === 0 || !store.db.open) {
      return;
    }
    for (const { row } of completions) {
      const left = (this.#outstanding.get(row.instance_id) ?? 1) - 1;
      if (left > 0) {
        this.#outstanding.set(row.instance_id, left);
      } else {
        this.#outstanding.delete(row.instance_id);
      }
    }
    const touched = new Set<string>();
    const write = () => {
      for (const { row, event } of completions) {
        store.statements.deleteActivity.run(row.id);
        const instance = store.getInstance(row.instance_id);
        if (!instance || instance.execution_id !== row.execution_id || terminalStatuses.includes(instance.runtime_status)) {
          continue;
        }
        store.insertInbox(row.instance_id, row.execution_id, event, 0);
        touched.add(row.instance_id);
      }
    };
    if (this.#stopped) {
      store.db.transaction(write)();
      return;
    }
    this.#context.committer.commit(write).then(
      () => touched.forEach((instanceId) => this.#context.kickAfterActivityResults(instanceId, this.#outstanding.get(instanceId) ?? 0)),
      (error: unknown) => this.#context.logger.error({ err: error, results: completions.length }, 'activity results could not be committed; the activities run again after a restart'),
    );
  }
}
