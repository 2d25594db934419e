import { describe, expect, test } from 'vitest';
import { TokenBucket } from '../../../lib/limits/tokenBucket';

describe('TokenBucket', () => {
  test('admits burst requests at once', () => {
    const bucket = new TokenBucket({ requestsPerSecond: 1, burst: 3 }, 0);

    const decisions = [bucket.tryTake(0), bucket.tryTake(0), bucket.tryTake(0)];

    expect(decisions.every((decision) => decision.admitted)).toBe(true);
  });

  test('rejects request over burst with retry after', () => {
    const bucket = new TokenBucket({ requestsPerSecond: 1, burst: 2 }, 0);
    bucket.tryTake(0);
    bucket.tryTake(0);

    expect(bucket.tryTake(0)).toEqual({ admitted: false, retryAfterInSeconds: 1 });
  });

  test('retry after rounds up slow rates to whole seconds', () => {
    const bucket = new TokenBucket({ requestsPerSecond: 0.25, burst: 1 }, 0);
    bucket.tryTake(0);

    expect(bucket.tryTake(1_000)).toEqual({ admitted: false, retryAfterInSeconds: 3 });
  });

  test('retry after is at least one second', () => {
    const bucket = new TokenBucket({ requestsPerSecond: 100, burst: 1 }, 0);
    bucket.tryTake(0);

    expect(bucket.tryTake(0)).toEqual({ admitted: false, retryAfterInSeconds: 1 });
  });

  test('refills at the configured rate', () => {
    const bucket = new TokenBucket({ requestsPerSecond: 2, burst: 1 }, 0);
    bucket.tryTake(0);

    expect(bucket.tryTake(499).admitted).toBe(false);
    expect(bucket.tryTake(500).admitted).toBe(true);
  });

  test('refill stops at burst', () => {
    const bucket = new TokenBucket({ requestsPerSecond: 10, burst: 2 }, 0);
    bucket.tryTake(0);
    bucket.tryTake(0);

    const decisions = [bucket.tryTake(60_000), bucket.tryTake(60_000), bucket.tryTake(60_000)];

    expect(decisions.map((decision) => decision.admitted)).toEqual([true, true, false]);
  });

  test('clock stepping back adds no tokens', () => {
    const bucket = new TokenBucket({ requestsPerSecond: 1, burst: 1 }, 10_000);
    bucket.tryTake(10_000);

    expect(bucket.tryTake(5_000).admitted).toBe(false);
  });
});
