import type { RegisteredFunction, RpcTypedData } from '../functionsCore/registry';
import { resolveSettingReference } from '../settings';
import { ncrontabFormatHint, NcrontabFormatError, parseNcrontab, type NcrontabSchedule } from './ncrontab';

/**
 * Timer-triggered functions: their schedule as read from the trigger binding, and the timer
 * object that their handler receives.
 */

export interface TimerFunction {
  fn: RegisteredFunction;
  schedule: NcrontabSchedule;
  runOnStartup: boolean;
}

/** Schedule status of one timer run. The handler receives its times as ISO 8601 strings in UTC. */
export interface TimerScheduleStatus {
  /** Scheduled time of the function's previous run in this host process. */
  last: Date | undefined;
  /** Next scheduled occurrence after this run. */
  next: Date | undefined;
  lastUpdated: Date;
}

/**
 * Time sent in place of a missing one, such as `last` before the first run. Year 1 keeps the field
 * a valid ISO 8601 string that every real time comes after.
 */
const neverTime = '0001-01-01T00:00:00.000Z';

/**
 * Reads the schedule and `runOnStartup` of a timer trigger. A schedule of the form `%NAME%` is
 * read from the app setting NAME, as in Azure Functions. Throws an error that names the
 * function, the value and the expected format when the schedule is invalid or never occurs.
 */
export function readTimerFunction(fn: RegisteredFunction, env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): TimerFunction {
  const { schedule: scheduleValue, runOnStartup } = fn.trigger;
  if (typeof scheduleValue !== 'string') {
    throw new Error(`Function "${fn.name}" has the timer schedule ${JSON.stringify(scheduleValue)}, but a schedule must be a string. ${ncrontabFormatHint}.`);
  }
  if (runOnStartup !== undefined && typeof runOnStartup !== 'boolean') {
    throw new Error(`Function "${fn.name}" has runOnStartup ${JSON.stringify(runOnStartup)}, but runOnStartup must be true or false.`);
  }

  const expression = resolveSettingReference(scheduleValue, `The timer schedule of function "${fn.name}"`, env);
  const source = expression === scheduleValue ? `"${expression}"` : `"${expression}" (from the app setting ${scheduleValue})`;
  let schedule: NcrontabSchedule;
  try {
    schedule = parseNcrontab(expression);
  } catch (error) {
    if (!(error instanceof NcrontabFormatError)) {
      throw error;
    }
    throw new Error(`Function "${fn.name}" has the timer schedule ${source}, which is not a valid NCRONTAB expression: ${error.message}. ${ncrontabFormatHint}.`, { cause: error });
  }
  if (!schedule.nextOccurrence(now)) {
    throw new Error(`Function "${fn.name}" has the timer schedule ${source}, which never occurs, because no date matches its day, month and day-of-week fields together. ${ncrontabFormatHint}.`);
  }
  return { fn, schedule, runOnStartup: runOnStartup === true };
}

/**
 * Builds the trigger data of a timer invocation in the form the Functions host sends it.
 * `@azure/functions` turns the PascalCase keys into camelCase, so the handler receives
 * `{ isPastDue, schedule: { adjustForDST }, scheduleStatus: { last, next, lastUpdated } }`.
 */
export function toTimerTriggerData(status: TimerScheduleStatus): RpcTypedData {
  const timer = {
    // NCRONTAB schedules adjust for daylight saving time in Azure. In UTC there is none.
    Schedule: { AdjustForDST: true },
    ScheduleStatus: {
      Last: status.last?.toISOString() ?? neverTime,
      Next: status.next?.toISOString() ?? neverTime,
      LastUpdated: status.lastUpdated.toISOString(),
    },
    // NOTE: the local host keeps no schedule status across restarts (no `useMonitor`), so it
    // never runs an occurrence that was missed while it was stopped, and `isPastDue` is always false.
    IsPastDue: false,
  };
  return { json: JSON.stringify(timer) };
}
