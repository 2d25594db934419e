import type { HttpResponseInit } from '@azure/functions';

/**
 * Problem types of the connector's HTTP API (RFC 9457). Each is a URN, so it identifies
 * the problem without pointing at a page that may not exist.
 */
export const problemTypes = {
  unknownConnector: 'urn:api-data-connector:problem:unknown-connector',
  unauthorized: 'urn:api-data-connector:problem:unauthorized',
  forbidden: 'urn:api-data-connector:problem:forbidden',
  payloadTooLarge: 'urn:api-data-connector:problem:payload-too-large',
  unsupportedMediaType: 'urn:api-data-connector:problem:unsupported-media-type',
  invalidJson: 'urn:api-data-connector:problem:invalid-json',
  invalidParameter: 'urn:api-data-connector:problem:invalid-parameter',
  messageNotFound: 'urn:api-data-connector:problem:message-not-found',
  connectorMisconfigured: 'urn:api-data-connector:problem:connector-misconfigured',
  temporarilyUnavailable: 'urn:api-data-connector:problem:temporarily-unavailable',
  invalidEncodedBody: 'urn:api-data-connector:problem:invalid-encoded-body',
  schemaViolation: 'urn:api-data-connector:problem:schema-violation',
  quarantineNotFound: 'urn:api-data-connector:problem:quarantine-not-found',
  alreadyReleased: 'urn:api-data-connector:problem:already-released',
  payloadMissing: 'urn:api-data-connector:problem:payload-missing',
  rateLimited: 'urn:api-data-connector:problem:rate-limited',
  tooManyConcurrentRequests: 'urn:api-data-connector:problem:too-many-concurrent-requests',
  invalidRequestBody: 'urn:api-data-connector:problem:invalid-request-body',
  unknownDestination: 'urn:api-data-connector:problem:unknown-destination',
  messageProcessing: 'urn:api-data-connector:problem:message-processing',
  payloadGone: 'urn:api-data-connector:problem:payload-gone',
  replayNotFound: 'urn:api-data-connector:problem:replay-not-found',
  replayFinished: 'urn:api-data-connector:problem:replay-finished',
  dependencyUnavailable: 'urn:api-data-connector:problem:dependency-unavailable',
  changesExpired: 'urn:api-data-connector:problem:changes-expired',
} as const;

export interface Problem {
  type: string;
  /** Short summary of what failed, the same for every occurrence of the type. */
  title: string;
  status: number;
  /** The offending value (never a secret) and what to do. */
  detail: string;
  /** Extra members, such as the id of the connector. */
  extensions?: Record<string, unknown>;
}

/** Builds an `application/problem+json` response. */
export function problemResponse(problem: Problem, headers: Record<string, string> = {}): HttpResponseInit {
  const body = {
    ...problem.extensions,
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
  };
  return {
    status: problem.status,
    headers: { ...headers, 'Content-Type': 'application/problem+json' },
    body: JSON.stringify(body),
  };
}
