import type http from 'node:http';

/** Limits on how a client sends a request, which Node's HTTP server enforces before any handler runs. */
export interface ConnectionLimits {
  /** Maximum size of the request line plus headers. A larger one gets 431. */
  maxHeaderBytes: number;
  /** Time a client has to send the complete headers. A slower one gets 408. */
  headersTimeoutMs: number;
  /** Time a client has to send the complete request, body included. A slower one gets 408. */
  requestTimeoutMs: number;
}

/** Maximum interval between Node's checks of the headers and request timeouts, which is also Node's default. */
const maxTimeoutCheckIntervalMs = 30_000;

/**
 * Converts the limits to Node's server options. Node rejects a headers timeout longer than the
 * request timeout, so the headers timeout is capped at it. Node checks both timeouts only every
 * `connectionsCheckingInterval`, so the interval is a quarter of the shorter timeout, and a
 * timeout of 1 s takes effect within about 1.25 s.
 */
export function toServerOptions(limits: ConnectionLimits): http.ServerOptions {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(maxTimeoutCheckIntervalMs, Math.max(10, Math.floor(headersTimeout / 4))),
  };
}
