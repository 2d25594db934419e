import type pino from 'pino';

import { errorMessageOf } from '../../errors';
import { isTransientSqlError } from './transientErrors';

export interface SqlRetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  firstDelayInMilliseconds: number;
  maxDelayInMilliseconds: number;
}

/**
 * Five attempts, with waits of 0.2, 0.4, 0.8 and 1.6 seconds between them.
 * NOTE: these numbers are a guess, never measured against an Azure SQL failover, which may last longer.
 */
export const defaultSqlRetryPolicy: SqlRetryPolicy = { maxAttempts: 5, firstDelayInMilliseconds: 200, maxDelayInMilliseconds: 2000 };

export interface RunWithRetryOptions {
  /** Names the operation in the retry log line, such as `claimMessage`. */
  operationName: string;
  logger: pino.Logger;
  policy?: SqlRetryPolicy;
  /** Waits between attempts. Tests pass one that returns at once. */
  sleep?: (delayInMilliseconds: number) => Promise<void>;
  isTransient?: (error: unknown) => boolean;
}

/** Returns the wait after failed attempt `attempt` (1-based): doubled each time, at most the policy's maximum. */
export function retryDelayInMilliseconds(policy: SqlRetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayInMilliseconds, policy.firstDelayInMilliseconds * 2 ** (attempt - 1));
}

/**
 * Runs `operation` and runs it again after a transient failure, up to the policy's attempts.
 * A failure that is not transient, or the last attempt's failure, is thrown unchanged. Each
 * retry logs the error message, not the error object with its connection details.
 */
export async function runWithRetry<T>(operation: () => Promise<T>, options: RunWithRetryOptions): Promise<T> {
  const policy = options.policy ?? defaultSqlRetryPolicy;
  const sleep = options.sleep ?? ((delayInMilliseconds) => new Promise<void>((resolve) => setTimeout(resolve, delayInMilliseconds)));
  const isTransient = options.isTransient ?? isTransientSqlError;

  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isTransient(error)) {
        throw error;
      }
      const delayInMilliseconds = retryDelayInMilliseconds(policy, attempt);
      options.logger.warn(
        { operationName: options.operationName, attempt, maxAttempts: policy.maxAttempts, delayInMilliseconds, error: errorMessageOf(error) },
        'tracking SQL operation failed with a transient error, retrying',
      );
      await sleep(delayInMilliseconds);
    }
  }
}
