import type { RetryPolicy } from '../config/types';

/**
 * The wait between delivery attempts and the total deadline. Every function here is pure and
 * deterministic, so orchestrators call them on every replay and get the same schedule.
 */

/** Decision after a failed attempt: another attempt at `nextAttemptAtInMilliseconds`, or a dead letter. */
export type RetryDecision =
  | { kind: 'retry'; nextAttemptAtInMilliseconds: number; waitInMilliseconds: number }
  | { kind: 'stop'; reason: 'maxAttempts' | 'deadline' };

export interface FailedAttempt {
  /** 1 for the first attempt. */
  attemptNumber: number;
  /** Epoch milliseconds at which the attempt ended, from the orchestration's clock. */
  endedAtInMilliseconds: number;
  /** The target's `Retry-After` as a wait from the end of the attempt, before clamping. */
  retryAfterInMilliseconds?: number;
}

/**
 * Returns the backoff after failed attempt `attemptNumber` (1-based):
 * `min(maxInterval, firstInterval × backoffCoefficient^(attemptNumber − 1))`, before jitter.
 */
export function computeBackoffInMilliseconds(policy: RetryPolicy, attemptNumber: number): number {
  const backoff = policy.firstIntervalInMilliseconds * Math.pow(policy.backoffCoefficient, attemptNumber - 1);
  return Math.min(policy.maxIntervalInMilliseconds, backoff);
}

/**
 * Returns a number in [0, 1) that depends only on the instance id and the attempt number, so
 * that a replay computes the same jitter and two deliveries spread their retries apart.
 * The text is hashed with 32-bit FNV-1a and the hash is mixed with the MurmurHash3 finalizer,
 * because FNV-1a alone changes little in its high bits when only the last character changes.
 */
export function jitterFraction(instanceId: string, attemptNumber: number): number {
  const text = `${instanceId}#${attemptNumber}`;
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x1_0000_0000;
}

/** Clamps a target's `Retry-After` to [minRetryAfter, maxRetryAfter] of the policy. */
export function clampRetryAfterInMilliseconds(policy: RetryPolicy, retryAfterInMilliseconds: number): number {
  const atLeastMin = Math.max(policy.minRetryAfterInMilliseconds, retryAfterInMilliseconds);
  return Math.min(policy.maxRetryAfterInMilliseconds, atLeastMin);
}

/**
 * Returns the wait in whole milliseconds after a failed attempt. A target's `Retry-After`,
 * clamped, replaces the backoff. Otherwise `full` jitter picks a uniform whole number in
 * [0, backoff] from `jitterFraction`, and `none` waits the backoff itself.
 */
export function computeRetryWaitInMilliseconds(policy: RetryPolicy, instanceId: string, attempt: FailedAttempt): number {
  if (attempt.retryAfterInMilliseconds !== undefined) {
    return Math.round(clampRetryAfterInMilliseconds(policy, attempt.retryAfterInMilliseconds));
  }

  const backoff = Math.round(computeBackoffInMilliseconds(policy, attempt.attemptNumber));
  if (policy.jitter === 'none') {
    return backoff;
  }
  return Math.floor(jitterFraction(instanceId, attempt.attemptNumber) * (backoff + 1));
}

/** Returns the epoch milliseconds after which no attempt starts: the first attempt's start plus the total deadline. */
export function computeDeadlineInMilliseconds(policy: RetryPolicy, firstAttemptAtInMilliseconds: number): number {
  return firstAttemptAtInMilliseconds + policy.totalDeadlineInMilliseconds;
}

/**
 * Decides what follows a retryable failure. It stops with `maxAttempts` when the policy's
 * attempts are used up, and with `deadline` when the next attempt would start after the
 * deadline. Otherwise it returns the time of the next attempt.
 */
export function decideRetry(policy: RetryPolicy, instanceId: string, attempt: FailedAttempt, deadlineInMilliseconds: number): RetryDecision {
  if (attempt.attemptNumber >= policy.maxAttempts) {
    return { kind: 'stop', reason: 'maxAttempts' };
  }

  const waitInMilliseconds = computeRetryWaitInMilliseconds(policy, instanceId, attempt);
  const nextAttemptAtInMilliseconds = attempt.endedAtInMilliseconds + waitInMilliseconds;
  if (nextAttemptAtInMilliseconds > deadlineInMilliseconds) {
    return { kind: 'stop', reason: 'deadline' };
  }
  return { kind: 'retry', nextAttemptAtInMilliseconds, waitInMilliseconds };
}
