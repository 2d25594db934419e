import { describe, expect, it } from 'vitest';

import { deliveryLedger, endToEndFigures, requestLedger } from '../../bench/ledger';
import type { LoadResult } from '../../bench/loadProtocol';
import { percentile } from '../../bench/stats';
import type { DeliveryRow } from '../../bench/target';

/** Builds a load run in which every request in `acceptedIds` was accepted 10 ms after it was sent. */
function loadOf(acceptedIds: string[], overrides: Partial<LoadResult> = {}): LoadResult {
  const sentAt = acceptedIds.map((_id, index) => 1_000 + index * 100);
  return {
    runId: 'run',
    model: 'closed',
    connections: 4,
    ratePerSecond: null,
    sent: acceptedIds.length,
    accepted: acceptedIds.length,
    rejected: 0,
    statusCounts: { 202: acceptedIds.length },
    errors: 0,
    timeouts: 0,
    unanswered: 0,
    firstSendAt: 1_000,
    lastResponseAt: 1_000 + acceptedIds.length * 100,
    seconds: acceptedIds.length / 10,
    acceptedPerSecond: 10,
    latencyP50InMilliseconds: 10,
    latencyP99InMilliseconds: 10,
    maxStartDelayInMilliseconds: null,
    hardLimitReached: false,
    acceptedIds,
    acceptedAt: sentAt.map((at) => at + 10),
    sentAt,
    ...overrides,
  };
}

/** Builds the delivery row of `benchId`: `count` arrivals on `paths` paths, the first at `firstAt`. */
function delivery(benchId: string, firstAt: number, count = 1, paths = 1): DeliveryRow {
  return [benchId, count, paths, firstAt, firstAt];
}

describe('bench ledger', () => {
  it('every request answered balances', () => {
    expect(requestLedger(loadOf(['a', 'b'])).balanced).toBe(true);
  });

  it('rejected requests still balance', () => {
    const ledger = requestLedger(loadOf(['a'], { sent: 3, rejected: 2, statusCounts: { 202: 1, 503: 2 } }));

    expect(ledger).toMatchObject({ sent: 3, accepted: 1, rejected: 2, balanced: true });
  });

  it('unanswered request unbalances', () => {
    const ledger = requestLedger(loadOf(['a'], { sent: 2, unanswered: 1 }));

    expect(ledger.balanced).toBe(false);
    expect(ledger.problems[0]).toContain('sent 2');
  });

  it('connection error unbalances', () => {
    expect(requestLedger(loadOf(['a'], { errors: 1 })).problems).toEqual(['1 connection errors']);
  });

  it('hard stop unbalances', () => {
    expect(requestLedger(loadOf(['a'], { hardLimitReached: true })).balanced).toBe(false);
  });

  it('every accepted id delivered balances', () => {
    const ledger = deliveryLedger(loadOf(['a', 'b']), [delivery('a', 1_050), delivery('b', 1_150)]);

    expect(ledger).toMatchObject({ delivered: 2, missing: 0, duplicates: 0, balanced: true });
  });

  it('missing delivery unbalances', () => {
    const ledger = deliveryLedger(loadOf(['a', 'b']), [delivery('a', 1_050)]);

    expect(ledger).toMatchObject({ delivered: 1, missing: 1, balanced: false });
  });

  it('duplicate delivery is counted and balances', () => {
    const ledger = deliveryLedger(loadOf(['a']), [delivery('a', 1_050, 2)]);

    expect(ledger).toMatchObject({ delivered: 1, duplicates: 1, balanced: true });
  });

  it('delivery of an id that was not accepted unbalances', () => {
    const ledger = deliveryLedger(loadOf(['a']), [delivery('a', 1_050), delivery('stray', 1_060)]);

    expect(ledger).toMatchObject({ deliveredNotAccepted: 1, balanced: false });
  });

  it('fan-out short of its destinations unbalances', () => {
    const ledger = deliveryLedger(loadOf(['a']), [delivery('a', 1_050, 99, 99)], 100);

    expect(ledger.balanced).toBe(false);
    expect(ledger.problems).toEqual(['1 accepted ids reached fewer than 100 destinations']);
  });
});

describe('bench figures', () => {
  it('accept to delivery runs from the 202 to the first arrival', () => {
    const figures = endToEndFigures(loadOf(['a', 'b']), [delivery('a', 1_040), delivery('b', 1_190)]);

    // The 202s arrived at 1,010 and 1,110.
    expect(figures.acceptToDeliveryP50InMilliseconds).toBe(30);
    expect(figures.acceptToDeliveryMaxInMilliseconds).toBe(80);
    expect(figures.sendToDeliveryP99InMilliseconds).toBe(90);
    expect(figures.seconds).toBeCloseTo(0.19);
    expect(figures.deliveredPerSecond).toBeCloseTo(2 / 0.19);
  });

  it('percentile uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_unused, index) => 100 - index);

    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 1)).toBe(100);
    expect(percentile([], 0.5)).toBeNull();
  });
});
