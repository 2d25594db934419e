import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

export interface OutboundRequest {
  url: URL;
  method: 'POST' | 'PUT' | 'PATCH';
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface SendOptions {
  dispatcher: Dispatcher;
  headersTimeoutInMilliseconds: number;
  /** Aborts connecting, sending and reading, when the attempt's time is up. */
  signal: AbortSignal;
  /** Number of response body bytes to read. The rest is not read, and the connection is closed. */
  responseBodyStartBytes: number;
}

export interface OutboundResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  bodyStart: Buffer;
}

/**
 * Sends one HTTP request without following redirects and reads the start of the response
 * body. Throws undici's error for a failed connection, the connect or headers timeout, or the
 * signal's reason when it aborts.
 */
export async function sendRequest(request: OutboundRequest, options: SendOptions): Promise<OutboundResponse> {
  // NOTE: undici 7.30 checks the connect and headers timeouts on a coarse timer. In the tests a
  // 200 ms setting fired after about 1 s, so short values end later than configured.
  const response = await options.dispatcher.request({
    origin: request.url.origin,
    path: `${request.url.pathname}${request.url.search}`,
    method: request.method,
    headers: request.headers,
    body: Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength),
    headersTimeout: options.headersTimeoutInMilliseconds,
    signal: options.signal,
  });

  const bodyStart = await readBodyStart(response.body, options.responseBodyStartBytes);
  return { statusCode: response.statusCode, headers: response.headers, bodyStart };
}

/** Reads at most `maxBytes` of `body`, then destroys it so that the rest is never transferred. */
async function readBodyStart(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let byteCount = 0;
  try {
    if (maxBytes > 0) {
      for await (const chunk of body) {
        chunks.push(chunk as Buffer);
        byteCount += (chunk as Buffer).byteLength;
        if (byteCount >= maxBytes) {
          break;
        }
      }
    }
  } finally {
    if (!body.readableEnded) {
      // Destroying closes the connection. undici also emits it as an error event, which is ignored here.
      body.on('error', () => undefined);
      body.destroy();
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes);
}
