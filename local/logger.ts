import pino from 'pino';
import type { CoreLogSink } from './functionsCore/coreApi';
import type { InvocationLogSink } from './functionsCore/invoker';
import type { LogLevel } from './settings';

/**
 * Structured logs of the local host: one JSON object a line on stdout, a fixed message plus
 * fields. Keys never reach the log: the fields below are redacted, and URLs pass through
 * `redactKeyFromUrl` before they are logged.
 */

export type HostLogger = pino.Logger;

const redactedPaths = [
  'key',
  'hostKey',
  'functionKey',
  'code',
  'headers["x-functions-key"]',
  '*.key',
  '*.hostKey',
  '*.functionKey',
  '*.headers["x-functions-key"]',
];

/**
 * Creates the host logger. Writes are synchronous so that the lines logged just before a crash
 * or `process.exit` are not lost.
 */
export function createHostLogger(level: LogLevel = 'info', destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true })): HostLogger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactedPaths, censor: '[redacted]' },
    },
    destination,
  );
}

/** Replaces the value of a `code` query parameter (a function key) in `url` with `[redacted]`. */
export function redactKeyFromUrl(url: string): string {
  return url.replace(/([?&]code=)[^&#]*/gi, '$1[redacted]');
}

export type InvocationOutcome = 'succeeded' | 'failed';

export interface InvocationLogFields {
  functionName: string;
  invocationId: string;
  /** Trigger type of the function, such as `httpTrigger` or `activityTrigger`. */
  triggerType?: string;
  /** Orchestration or entity instance id, when the invocation belongs to one. */
  instanceId?: string;
  durationInMilliseconds: number;
  outcome: InvocationOutcome;
  /** The error of a failed invocation. */
  error?: unknown;
  [field: string]: unknown;
}

/** Logs one finished function invocation: `info` when it succeeded, `error` with the error when it failed. */
export function logInvocation(logger: HostLogger, fields: InvocationLogFields): void {
  const { error, durationInMilliseconds, ...rest } = fields;
  const entry = { ...rest, durationInMilliseconds: Math.round(durationInMilliseconds * 1000) / 1000 };
  if (fields.outcome === 'failed') {
    logger.error({ ...entry, err: toError(error) }, 'function invocation failed');
  } else {
    logger.info(entry, 'function invocation succeeded');
  }
}

/** Logs an error that the host caught and handled instead of re-raising it. */
export function logCaughtError(logger: HostLogger, message: string, error: unknown, fields: Record<string, unknown> = {}): void {
  logger.error({ ...fields, err: toError(error) }, message);
}

function toError(error: unknown): Error | undefined {
  if (error === undefined || error instanceof Error) {
    return error;
  }
  if (typeof error === 'string') {
    return new Error(error);
  }
  try {
    return new Error(JSON.stringify(error));
  } catch {
    return new Error(String(error));
  }
}

/**
 * Maps the log levels of `@azure/functions` (`information`, `warning`, ...) to pino levels;
 * `none` maps to undefined, which means the message is not logged.
 */
function toPinoLevel(level: string): pino.Level | undefined {
  switch (level.toLowerCase()) {
    case 'none':
      return undefined;
    case 'trace':
      return 'trace';
    case 'debug':
      return 'debug';
    case 'warning':
      return 'warn';
    case 'error':
      return 'error';
    case 'critical':
      return 'fatal';
    default:
      return 'info';
  }
}

/** Log sink for messages that `@azure/functions` writes while the app loads. */
export function createCoreLogSink(logger: HostLogger): CoreLogSink {
  return (level, category, message) => {
    const pinoLevel = toPinoLevel(level);
    if (pinoLevel) {
      logger[pinoLevel]({ category }, message);
    }
  };
}

/** Log sink for `context.log` and the library's messages during an invocation. */
export function createInvocationLogSink(logger: HostLogger): InvocationLogSink {
  return (fn, invocationId, level, category, message) => {
    const pinoLevel = toPinoLevel(level);
    if (pinoLevel) {
      logger[pinoLevel]({ functionName: fn.name, invocationId, category }, message);
    }
  };
}
