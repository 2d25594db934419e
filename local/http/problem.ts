import type { ServerResponse } from 'node:http';
import type { HostExchangeResponse } from './hostExchange';

/**
 * Error responses of the local host in the `application/problem+json` format of RFC 9457. The
 * `detail` names the offending value and what to do, and never contains a key or internals.
 */

export interface Problem {
  status: number;
  /** Short, fixed description of the kind of failure, such as "Route not found". */
  title: string;
  detail: string;
  /** URI that identifies the kind of failure. It is a URN because there is no page to resolve. */
  type: string;
  headers?: Record<string, string>;
}

/** Builds the `type` URN of a host problem, for example `urn:functions-local-host:problem:route-not-found`. */
export function problemType(name: string): string {
  return `urn:functions-local-host:problem:${name}`;
}

/**
 * Sends `problem` in place of any headers set so far. When the response has already started,
 * the connection is closed instead, so the client sees an incomplete response.
 */
export function sendProblem(res: ServerResponse, problem: Problem): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) {
    res.removeHeader(name);
  }
  const response = toProblemResponse(problem);
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/** Encodes `problem` as a complete response: status, headers and the JSON body. */
export function toProblemResponse(problem: Problem): HostExchangeResponse {
  const body = Buffer.from(JSON.stringify({ type: problem.type, title: problem.title, status: problem.status, detail: problem.detail }));
  return {
    status: problem.status,
    headers: {
      ...problem.headers,
      'Content-Type': 'application/problem+json',
      'Content-Length': String(body.length),
    },
    body,
  };
}
