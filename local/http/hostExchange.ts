import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { declaredLengthOverLimit, readRequestBody, RequestBodyTooLargeError } from './requestBody';

/**
 * A request and its buffered response, independent of how the request arrived. The management
 * API serves this form, so that the HTTP server and the in-process durable client adapter share
 * its routes, key check, status codes and bodies.
 */

export interface HostExchangeRequest {
  /** Method in upper case, such as `POST`. */
  method: string;
  /** Full URL with the origin that the caller used, so that URLs in responses work for it. */
  url: URL;
  /** Headers with lower-case names, as Node's HTTP server provides them. */
  headers: IncomingHttpHeaders;
  /** Reads the whole body. Raises `RequestBodyTooLargeError` when it has more than `maxBodyBytes`. */
  readBody(maxBodyBytes: number): Promise<Buffer>;
}

export interface HostExchangeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Wraps a request of the HTTP server. A `Content-Length` over the limit is rejected before the
 * body is read, and reading stops as soon as the limit is passed.
 */
export function fromIncomingMessage(req: IncomingMessage, url: URL): HostExchangeRequest {
  return {
    method: req.method ?? 'GET',
    url,
    headers: req.headers,
    readBody: async (maxBodyBytes) => {
      if (declaredLengthOverLimit(req, maxBodyBytes) !== undefined) {
        throw new RequestBodyTooLargeError(maxBodyBytes);
      }
      return readRequestBody(req, maxBodyBytes);
    },
  };
}

/** Creates a request whose body is already in memory, such as one that the durable client sends in process. */
export function fromBufferedRequest(method: string, url: URL, headers: IncomingHttpHeaders, body: Buffer): HostExchangeRequest {
  return {
    method: method.toUpperCase(),
    url,
    headers,
    readBody: async (maxBodyBytes) => {
      if (body.length > maxBodyBytes) {
        throw new RequestBodyTooLargeError(maxBodyBytes);
      }
      return body;
    },
  };
}

/** Sends `response` on the HTTP server's response. */
export function writeExchangeResponse(res: ServerResponse, response: HostExchangeResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}
