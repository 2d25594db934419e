import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { InvocationRequest, Invoker } from './functionsCore/invoker';
import type { RegisteredFunction } from './functionsCore/registry';
import { logInvocation, type HostLogger, type InvocationOutcome } from './logger';

/** Result of one invocation of a function that is not HTTP-triggered. */
export interface FunctionRunResult {
  invocationId: string;
  outcome: InvocationOutcome;
  /** The error of a failed invocation. */
  error?: unknown;
}

export interface FunctionRunOptions {
  invoker: Invoker;
  logger: HostLogger;
}

/**
 * Invokes `fn` once, with `request.invocationId` or a new id, and logs the finished invocation with its duration, outcome and
 * `logFields`. It never rejects: a failure, including one before the handler runs, is logged and
 * returned as outcome `failed`.
 */
export async function runFunction(
  options: FunctionRunOptions,
  fn: RegisteredFunction,
  request: InvocationRequest,
  logFields: Record<string, unknown> = {},
): Promise<FunctionRunResult> {
  const invocationId = request.invocationId ?? randomUUID();
  const startTime = performance.now();
  let result: FunctionRunResult;
  try {
    await options.invoker.invoke(fn, { ...request, invocationId });
    result = { invocationId, outcome: 'succeeded' };
  } catch (error) {
    result = { invocationId, outcome: 'failed', error };
  }
  logInvocation(options.logger, {
    ...logFields,
    functionName: fn.name,
    invocationId,
    triggerType: fn.trigger.type,
    durationInMilliseconds: performance.now() - startTime,
    outcome: result.outcome,
    error: result.error,
  });
  return result;
}
