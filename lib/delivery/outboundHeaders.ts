import type { DestinationConfig } from '../config/types';

/**
 * Headers that neither the connectors file nor a partner may set, because the HTTP client
 * manages them for the connection.
 */
const connectionHeaderNames = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'proxy-connection']);

export interface AttemptHeaderValues {
  contentType: string;
  idempotencyKey: string;
  attemptNumber: number;
  traceparent: string;
  /** The partner's headers that were kept at ingest, by lower-case name. */
  forwardedHeaders?: Record<string, string>;
}

/**
 * Returns the headers that every request of an attempt carries, names in lower case. Later
 * groups win over earlier ones: the partner headers that `forwardHeaders` lists, then the static
 * `headers`, then `Content-Type`, `Idempotency-Key`, `X-Delivery-Attempt` and `traceparent`.
 * Authentication and signing headers are added per request on top of these.
 */
export function attemptHeaders(destination: DestinationConfig, values: AttemptHeaderValues): Record<string, string> {
  const headers: Record<string, string> = {};

  for (const name of destination.forwardHeaders) {
    const lowerCaseName = name.toLowerCase();
    const value = values.forwardedHeaders?.[lowerCaseName];
    if (value !== undefined && !connectionHeaderNames.has(lowerCaseName)) {
      headers[lowerCaseName] = value;
    }
  }

  for (const [name, value] of Object.entries(destination.headers)) {
    const lowerCaseName = name.toLowerCase();
    if (!connectionHeaderNames.has(lowerCaseName)) {
      headers[lowerCaseName] = value;
    }
  }

  headers['content-type'] = values.contentType;
  headers['idempotency-key'] = values.idempotencyKey;
  headers['x-delivery-attempt'] = String(values.attemptNumber);
  headers.traceparent = values.traceparent;
  return headers;
}
