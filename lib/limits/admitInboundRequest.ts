import type { HttpResponseInit } from '@azure/functions';
import type { Connector, Connectors } from '../config/types';
import { problemResponse, problemTypes } from '../http/problem';
import { ConcurrencyLimit } from './concurrencyLimit';
import { TokenBucket } from './tokenBucket';

/** Seconds a client is asked to wait when every concurrent request slot of a connector is taken. */
export const concurrencyRetryAfterInSeconds = 1;

interface ConnectorLimits {
  /** Absent when the connector has no `inbound.rateLimit`. */
  tokenBucket?: TokenBucket;
  concurrency: ConcurrencyLimit;
}

export type InboundAdmission = { rejection: HttpResponseInit; release?: undefined } | { rejection?: undefined; release: () => void };

/**
 * The limiter state of each loaded connectors object. The state lives in this process, so each
 * host instance limits on its own, and loading the connectors again starts with full buckets.
 */
const limitsByConnectors = new WeakMap<Connectors, Map<string, ConnectorLimits>>();

function limitsOf(connector: Connector, connectors: Connectors, nowInMilliseconds: number): ConnectorLimits {
  let limitsById = limitsByConnectors.get(connectors);
  if (limitsById === undefined) {
    limitsById = new Map();
    limitsByConnectors.set(connectors, limitsById);
  }
  let limits = limitsById.get(connector.id);
  if (limits === undefined) {
    const rateLimit = connector.inbound.rateLimit;
    limits = {
      tokenBucket: rateLimit === undefined ? undefined : new TokenBucket(rateLimit, nowInMilliseconds),
      concurrency: new ConcurrencyLimit(connector.inbound.maxConcurrentRequests),
    };
    limitsById.set(connector.id, limits);
  }
  return limits;
}

/**
 * Applies the connector's rate limit and then its concurrent request limit. A request over the
 * rate limit gets 429 and one over the concurrent request limit 503, each with `Retry-After`.
 * An admitted request gets `release`, which the caller must call once when the request ends.
 */
export function admitInboundRequest(connector: Connector, connectors: Connectors, now: Date): InboundAdmission {
  const nowInMilliseconds = now.getTime();
  const limits = limitsOf(connector, connectors, nowInMilliseconds);

  const rateLimit = connector.inbound.rateLimit;
  if (limits.tokenBucket !== undefined && rateLimit !== undefined) {
    const decision = limits.tokenBucket.tryTake(nowInMilliseconds);
    if (!decision.admitted) {
      return {
        rejection: problemResponse(
          {
            type: problemTypes.rateLimited,
            title: 'Too many requests',
            status: 429,
            detail: `Connector "${connector.id}" accepts ${rateLimit.requestsPerSecond} requests per second with a burst of ${rateLimit.burst}. Send this request again after ${decision.retryAfterInSeconds} s.`,
            extensions: { connectorId: connector.id },
          },
          { 'Retry-After': String(decision.retryAfterInSeconds) },
        ),
      };
    }
  }

  const release = limits.concurrency.tryAcquire();
  if (release === undefined) {
    return {
      rejection: problemResponse(
        {
          type: problemTypes.tooManyConcurrentRequests,
          title: 'Too many concurrent requests',
          status: 503,
          detail: `Connector "${connector.id}" is already handling its maximum of ${connector.inbound.maxConcurrentRequests} concurrent requests. Send this request again after ${concurrencyRetryAfterInSeconds} s.`,
          extensions: { connectorId: connector.id },
        },
        { 'Retry-After': String(concurrencyRetryAfterInSeconds) },
      ),
    };
  }
  return { release };
}
