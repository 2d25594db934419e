import { describe, expect, test } from 'vitest';
import { maxRetryAfterInMilliseconds, parseRetryAfter } from '../../../lib/delivery/retryAfter';

const now = new Date('2024-05-01T10:00:00.000Z');

describe('parseRetryAfter', () => {
  test('delta-seconds become milliseconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
  });

  test('zero seconds is zero', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  test('surrounding spaces are ignored', () => {
    expect(parseRetryAfter(' 5 ', now)).toBe(5_000);
  });

  test('IMF-fixdate is relative to now', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 10:01:30 GMT', now)).toBe(90_000);
  });

  test('obsolete RFC 850 date is accepted', () => {
    expect(parseRetryAfter('Wednesday, 01-May-24 10:00:10 GMT', now)).toBe(10_000);
  });

  test('asctime date is read as GMT', () => {
    expect(parseRetryAfter('Wed May  1 10:00:20 2024', now)).toBe(20_000);
  });

  test('past date is zero', () => {
    expect(parseRetryAfter('Tue, 30 Apr 2024 10:00:00 GMT', now)).toBe(0);
  });

  test('huge seconds are kept', () => {
    expect(parseRetryAfter('315360000', now)).toBe(315_360_000_000);
  });

  test('seconds beyond exact numbers are cut to the largest safe integer', () => {
    expect(parseRetryAfter('9'.repeat(30), now)).toBe(maxRetryAfterInMilliseconds);
  });

  test('negative seconds are absent', () => {
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });

  test('malformed values are absent', () => {
    for (const value of ['soon', '1.5', '10s', '', 'Wed, 99 May 2024 10:00:00 GMT', 'Wed, 01 May 2024 10:00:00']) {
      expect(parseRetryAfter(value, now), value).toBeUndefined();
    }
  });

  test('absent header is absent', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
