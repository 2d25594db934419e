import type { LoadResult } from './loadProtocol';
import { percentile } from './stats';
import type { DeliveryRow } from './target';

/**
 * The ledger of a load run. It balances when every request sent got a response (sent = accepted +
 * rejected, with no connection error or timeout) and, for runs that deliver, when the target
 * received every accepted bench id and nothing else. A run whose ledger does not balance is
 * invalid: its figures are not reported.
 */
export interface Ledger {
  sent: number;
  accepted: number;
  rejected: number;
  errors: number;
  timeouts: number;
  unanswered: number;
  /** Distinct accepted bench ids that reached the target; null for runs without a target. */
  delivered: number | null;
  /** Accepted ids that never reached the target. */
  missing: number | null;
  /** Deliveries beyond the first per bench id and path. */
  duplicates: number | null;
  /** Ids that reached the target although their request was not accepted, such as after a timeout. */
  deliveredNotAccepted: number | null;
  balanced: boolean;
  /** Reasons the ledger does not balance. Empty when it balances. */
  problems: string[];
}

export function requestLedger(load: LoadResult): Ledger {
  const problems: string[] = [];
  if (load.sent !== load.accepted + load.rejected) {
    problems.push(`sent ${load.sent} ≠ accepted ${load.accepted} + rejected ${load.rejected} (timeouts ${load.timeouts}, unanswered ${load.unanswered})`);
  }
  if (load.errors > 0) {
    problems.push(`${load.errors} connection errors`);
  }
  if (load.hardLimitReached) {
    problems.push('the hard time limit stopped the load with requests in flight');
  }
  return {
    sent: load.sent,
    accepted: load.accepted,
    rejected: load.rejected,
    errors: load.errors,
    timeouts: load.timeouts,
    unanswered: load.unanswered,
    delivered: null,
    missing: null,
    duplicates: null,
    deliveredNotAccepted: null,
    balanced: problems.length === 0,
    problems,
  };
}

/** The request ledger plus the deliveries: each accepted id must arrive once on each of `pathsPerId` paths. */
export function deliveryLedger(load: LoadResult, rows: DeliveryRow[], pathsPerId = 1): Ledger {
  const ledger = requestLedger(load);
  const acceptedIds = new Set(load.acceptedIds);
  let delivered = 0;
  let duplicates = 0;
  let deliveredNotAccepted = 0;
  let incomplete = 0;
  for (const [benchId, count, distinctPaths] of rows) {
    duplicates += count - distinctPaths;
    if (!acceptedIds.has(benchId)) {
      deliveredNotAccepted++;
      continue;
    }
    delivered++;
    if (distinctPaths < pathsPerId) {
      incomplete++;
    }
  }
  const missing = acceptedIds.size - delivered;
  const problems = [...ledger.problems];
  if (missing > 0) {
    problems.push(`${missing} accepted ids never reached the target`);
  }
  if (incomplete > 0) {
    problems.push(`${incomplete} accepted ids reached fewer than ${pathsPerId} destinations`);
  }
  if (deliveredNotAccepted > 0) {
    problems.push(`${deliveredNotAccepted} ids reached the target without being accepted`);
  }
  return { ...ledger, delivered, missing, duplicates, deliveredNotAccepted, balanced: problems.length === 0, problems };
}

export interface EndToEndFigures {
  deliveredPerSecond: number;
  /** From the first request sent to the last delivery. */
  seconds: number;
  acceptToDeliveryP50InMilliseconds: number | null;
  acceptToDeliveryP99InMilliseconds: number | null;
  acceptToDeliveryMaxInMilliseconds: number | null;
  /**
   * From the request's start in the load process to the first delivery. Unlike accept to
   * delivery, this compares a peer that delivers before it responds with one that responds first.
   */
  sendToDeliveryP50InMilliseconds: number | null;
  sendToDeliveryP99InMilliseconds: number | null;
}

/**
 * Computes delivered messages per second, from the first request to the last delivery, and the
 * time from each 202 at the load process to the first delivery of that id at the target.
 */
export function endToEndFigures(load: LoadResult, rows: DeliveryRow[]): EndToEndFigures {
  const firstArrivalById = new Map(rows.map(([benchId, , , firstAt]) => [benchId, firstAt]));
  const latencies: number[] = [];
  const sendLatencies: number[] = [];
  let lastDeliveryAt = load.firstSendAt;
  for (const [index, benchId] of load.acceptedIds.entries()) {
    const firstAt = firstArrivalById.get(benchId);
    if (firstAt === undefined) {
      continue;
    }
    latencies.push(firstAt - load.acceptedAt[index]);
    sendLatencies.push(firstAt - load.sentAt[index]);
    lastDeliveryAt = Math.max(lastDeliveryAt, firstAt);
  }
  const seconds = (lastDeliveryAt - load.firstSendAt) / 1_000;
  return {
    deliveredPerSecond: seconds > 0 ? latencies.length / seconds : 0,
    seconds,
    acceptToDeliveryP50InMilliseconds: percentile(latencies, 0.5),
    acceptToDeliveryP99InMilliseconds: percentile(latencies, 0.99),
    acceptToDeliveryMaxInMilliseconds: percentile(latencies, 1),
    sendToDeliveryP50InMilliseconds: percentile(sendLatencies, 0.5),
    sendToDeliveryP99InMilliseconds: percentile(sendLatencies, 0.99),
  };
}
