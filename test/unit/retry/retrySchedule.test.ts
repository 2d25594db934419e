import { describe, expect, test } from 'vitest';
import type { RetryPolicy } from '../../../lib/config/types';
import {
  clampRetryAfterInMilliseconds,
  computeBackoffInMilliseconds,
  computeRetryWaitInMilliseconds,
  decideRetry,
  jitterFraction,
} from '../../../lib/retry/retrySchedule';

const policy: RetryPolicy = {
  maxAttempts: 5,
  firstIntervalInMilliseconds: 1000,
  backoffCoefficient: 2,
  maxIntervalInMilliseconds: 5000,
  totalDeadlineInMilliseconds: 60_000,
  jitter: 'none',
  minRetryAfterInMilliseconds: 2000,
  maxRetryAfterInMilliseconds: 30_000,
};
const fullJitter: RetryPolicy = { ...policy, jitter: 'full' };
const instanceId = 'orders-0123456789abcdef0123456789abcdef:erp';

describe('computeBackoffInMilliseconds', () => {
  test('grows by the coefficient', () => {
    expect(computeBackoffInMilliseconds(policy, 1)).toBe(1000);
    expect(computeBackoffInMilliseconds(policy, 2)).toBe(2000);
    expect(computeBackoffInMilliseconds(policy, 3)).toBe(4000);
  });

  test('is capped by the max interval', () => {
    expect(computeBackoffInMilliseconds(policy, 4)).toBe(5000);
    expect(computeBackoffInMilliseconds(policy, 40)).toBe(5000);
  });
});

describe('jitterFraction', () => {
  test('is the same for the same instance and attempt', () => {
    expect(jitterFraction(instanceId, 3)).toBe(jitterFraction(instanceId, 3));
  });

  test('stays in [0, 1) over many inputs', () => {
    const fractions = Array.from({ length: 2000 }, (_, index) => jitterFraction(`message-${index}:erp`, (index % 7) + 1));

    expect(Math.min(...fractions)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...fractions)).toBeLessThan(1);
  });

  test('spreads over the whole range', () => {
    const fractions = Array.from({ length: 2000 }, (_, index) => jitterFraction(`message-${index}:erp`, 1));
    const tenths = new Set(fractions.map((fraction) => Math.floor(fraction * 10)));

    expect(tenths.size).toBe(10);
    expect(fractions.reduce((sum, fraction) => sum + fraction, 0) / fractions.length).toBeCloseTo(0.5, 1);
  });

  test('differs between attempts', () => {
    expect(jitterFraction(instanceId, 1)).not.toBe(jitterFraction(instanceId, 2));
  });
});

describe('computeRetryWaitInMilliseconds', () => {
  test('full jitter stays within [0, backoff]', () => {
    for (let index = 0; index < 500; index++) {
      const wait = computeRetryWaitInMilliseconds(fullJitter, `message-${index}:erp`, { attemptNumber: 2, endedAtInMilliseconds: 0 });
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(2000);
    }
  });

  test('full jitter is deterministic', () => {
    const attempt = { attemptNumber: 3, endedAtInMilliseconds: 0 };

    expect(computeRetryWaitInMilliseconds(fullJitter, instanceId, attempt)).toBe(computeRetryWaitInMilliseconds(fullJitter, instanceId, attempt));
  });

  test('no jitter waits the backoff', () => {
    expect(computeRetryWaitInMilliseconds(policy, instanceId, { attemptNumber: 2, endedAtInMilliseconds: 0 })).toBe(2000);
  });

  test('Retry-After replaces the backoff', () => {
    const wait = computeRetryWaitInMilliseconds(fullJitter, instanceId, { attemptNumber: 1, endedAtInMilliseconds: 0, retryAfterInMilliseconds: 7000 });

    expect(wait).toBe(7000);
  });

  test('short Retry-After is raised to the minimum', () => {
    expect(clampRetryAfterInMilliseconds(policy, 0)).toBe(2000);
  });

  test('long Retry-After is lowered to the maximum', () => {
    expect(clampRetryAfterInMilliseconds(policy, 3_600_000)).toBe(30_000);
  });
});

describe('decideRetry', () => {
  test('retries at the end of the attempt plus the wait', () => {
    const decision = decideRetry(policy, instanceId, { attemptNumber: 1, endedAtInMilliseconds: 10_000 }, 70_000);

    expect(decision).toEqual({ kind: 'retry', nextAttemptAtInMilliseconds: 11_000, waitInMilliseconds: 1000 });
  });

  test('stops after the last attempt', () => {
    expect(decideRetry(policy, instanceId, { attemptNumber: 5, endedAtInMilliseconds: 0 }, 70_000)).toEqual({ kind: 'stop', reason: 'maxAttempts' });
  });

  test('stops when the next attempt would start after the deadline', () => {
    const decision = decideRetry(policy, instanceId, { attemptNumber: 2, endedAtInMilliseconds: 69_000 }, 70_000);

    expect(decision).toEqual({ kind: 'stop', reason: 'deadline' });
  });

  test('retries when the next attempt starts at the deadline', () => {
    const decision = decideRetry(policy, instanceId, { attemptNumber: 2, endedAtInMilliseconds: 68_000 }, 70_000);

    expect(decision.kind).toBe('retry');
  });

  test('clamped Retry-After counts against the deadline', () => {
    const attempt = { attemptNumber: 1, endedAtInMilliseconds: 50_000, retryAfterInMilliseconds: 3_600_000 };

    expect(decideRetry(policy, instanceId, attempt, 70_000)).toEqual({ kind: 'stop', reason: 'deadline' });
  });
});
