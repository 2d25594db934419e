import { randomUUID } from 'node:crypto';
import { runFunction, type FunctionRunOptions, type FunctionRunResult } from '../runFunction';
import { toTimerTriggerData, type TimerFunction } from './timerFunction';

/**
 * Runs timer-triggered functions on their NCRONTAB schedules, in UTC, while the host runs.
 *
 * A function runs at most once at a time. An occurrence that comes while the previous run is
 * still going is skipped and logged. A failed run is logged and the schedule goes on.
 * Occurrences that pass while the event loop is blocked are not run later.
 */

/** Why a timer function runs: its schedule, `runOnStartup`, or a request to the admin API. */
export type TimerRunReason = 'schedule' | 'runOnStartup' | 'admin';

export type TimerRunStart =
  | { status: 'started'; invocationId: string; result: Promise<FunctionRunResult> }
  /** The previous run of the function is still going. */
  | { status: 'busy'; runningInvocationId: string }
  /** The scheduler has stopped, because the host is stopping. */
  | { status: 'stopped' };

/** Maximum delay that `setTimeout` accepts, about 24.8 days. A longer wait is split. */
const maxTimeoutDelayInMilliseconds = 2 ** 31 - 1;

interface TimerState {
  timerFunction: TimerFunction;
  /** Scheduled time of the previous run in this host process. */
  lastRunTime: Date | undefined;
  timeout: NodeJS.Timeout | undefined;
  running: { invocationId: string; promise: Promise<FunctionRunResult> } | undefined;
}

function laterOf(first: Date, second: Date): Date {
  return first.getTime() >= second.getTime() ? first : second;
}

export class TimerScheduler {
  readonly #options: FunctionRunOptions;
  readonly #states = new Map<string, TimerState>();
  #stopped = false;

  constructor(timerFunctions: TimerFunction[], options: FunctionRunOptions) {
    this.#options = options;
    for (const timerFunction of timerFunctions) {
      this.#states.set(timerFunction.fn.name, { timerFunction, lastRunTime: undefined, timeout: undefined, running: undefined });
    }
  }

  /** Starts the `runOnStartup` runs and waits for each function's next occurrence. */
  start(): void {
    const now = new Date();
    for (const state of this.#states.values()) {
      const { fn, schedule, runOnStartup } = state.timerFunction;
      this.#options.logger.info(
        { functionName: fn.name, schedule: schedule.expression, runOnStartup, nextOccurrence: schedule.nextOccurrence(now)?.toISOString() },
        'timer function scheduled',
      );
      if (runOnStartup) {
        this.#startRun(state, now, 'runOnStartup');
      }
      this.#scheduleNext(state, now);
    }
  }

  /**
   * Runs the timer function `functionName` once now, unless its previous run is still going.
   * Returns undefined when no timer function has that name.
   */
  runNow(functionName: string, reason: TimerRunReason): TimerRunStart | undefined {
    const state = this.#states.get(functionName);
    if (!state) {
      return undefined;
    }
    return this.#startRun(state, new Date(), reason);
  }

  /**
   * Stops scheduling and waits up to `timeoutInMilliseconds` for running invocations. Resolves
   * true when none is left running, or false when the time ran out first.
   */
  async stop(timeoutInMilliseconds: number): Promise<boolean> {
    this.#stopped = true;
    for (const state of this.#states.values()) {
      clearTimeout(state.timeout);
      state.timeout = undefined;
    }
    const running = [...this.#states.values()].flatMap((state) => (state.running ? [state.running.promise] : []));
    if (running.length === 0) {
      return true;
    }
    this.#options.logger.info({ runningCount: running.length, timeoutInMilliseconds }, 'waiting for running timer invocations');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutInMilliseconds);
    });
    const finished = await Promise.race([Promise.all(running).then(() => true as const), timedOut]);
    clearTimeout(timer);
    return finished;
  }

  /** Waits for the first occurrence after `after` and runs it, then the one after, until the scheduler stops. */
  #scheduleNext(state: TimerState, after: Date): void {
    if (this.#stopped) {
      return;
    }
    const occurrence = state.timerFunction.schedule.nextOccurrence(after);
    if (!occurrence) {
      this.#options.logger.warn({ functionName: state.timerFunction.fn.name, schedule: state.timerFunction.schedule.expression }, 'timer function has no further occurrence');
      return;
    }
    this.#waitFor(state, occurrence);
  }

  #waitFor(state: TimerState, occurrence: Date): void {
    const delayInMilliseconds = Math.min(Math.max(0, occurrence.getTime() - Date.now()), maxTimeoutDelayInMilliseconds);
    state.timeout = setTimeout(() => {
      state.timeout = undefined;
      if (Date.now() < occurrence.getTime()) {
        // A split wait, or a timeout that fired a millisecond early.
        this.#waitFor(state, occurrence);
        return;
      }
      this.#startRun(state, occurrence, 'schedule');
      // Counting from now, not from the occurrence, skips occurrences that a blocked event loop
      // let pass instead of running them in a burst.
      this.#scheduleNext(state, laterOf(occurrence, new Date()));
    }, delayInMilliseconds);
    // The HTTP server keeps the process alive. A pending timer alone must not.
    state.timeout.unref();
  }

  #startRun(state: TimerState, scheduledTime: Date, reason: TimerRunReason): TimerRunStart {
    const { fn, schedule } = state.timerFunction;
    if (this.#stopped) {
      return { status: 'stopped' };
    }
    if (state.running) {
      this.#options.logger.warn(
        { functionName: fn.name, scheduledTime: scheduledTime.toISOString(), reason, runningInvocationId: state.running.invocationId },
        'timer run skipped: the previous run of the function is still running',
      );
      return { status: 'busy', runningInvocationId: state.running.invocationId };
    }

    const now = new Date();
    const triggerData = toTimerTriggerData({
      last: state.lastRunTime,
      next: schedule.nextOccurrence(laterOf(scheduledTime, now)),
      lastUpdated: now,
    });
    state.lastRunTime = scheduledTime;
    const invocationId = randomUUID();
    const promise = runFunction(this.#options, fn, { triggerData, invocationId }, { reason, scheduledTime: scheduledTime.toISOString() }).finally(() => {
      state.running = undefined;
    });
    state.running = { invocationId, promise };
    return { status: 'started', invocationId, result: promise };
  }
}
