import { describe, expect, test } from 'vitest';
import { ConcurrencyLimit } from '../../../lib/limits/concurrencyLimit';

describe('ConcurrencyLimit', () => {
  test('rejects request when every slot is taken', () => {
    const limit = new ConcurrencyLimit(2);
    limit.tryAcquire();
    limit.tryAcquire();

    expect(limit.tryAcquire()).toBeUndefined();
  });

  test('release frees a slot', () => {
    const limit = new ConcurrencyLimit(1);
    const release = limit.tryAcquire();
    release?.();

    expect(limit.tryAcquire()).toBeTypeOf('function');
  });

  test('second release of one slot changes nothing', () => {
    const limit = new ConcurrencyLimit(2);
    const release = limit.tryAcquire();
    limit.tryAcquire();
    release?.();
    release?.();

    expect(limit.inProgress).toBe(1);
  });
});
