import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HostLogger } from '../logger';
import { hostEnvironmentNames } from '../settings';
import { problemType, sendProblem } from './problem';
import { declaredLengthOverLimit, readRequestBody, RequestBodyTooLargeError } from './requestBody';

/** Reading request bodies up to the host limit, for HTTP functions and the host's own endpoints (Event Grid topic, admin API). */

function sendBodyTooLarge(res: ServerResponse, maxBodyBytes: number): void {
  sendProblem(res, {
    status: 413,
    type: problemType('request-body-too-large'),
    title: 'Request body too large',
    detail: `The request body is larger than the host limit of ${maxBodyBytes} bytes. Send a smaller body, or raise the setting ${hostEnvironmentNames.maxRequestBodyBytes}.`,
    // The rest of the body is not read, so the connection cannot carry another request.
    headers: { Connection: 'close' },
  });
}

/**
 * Reads the whole body up to `maxBodyBytes`. When the body is larger, sends 413 and returns
 * undefined. When the client goes away first, logs it, closes the connection and returns undefined.
 */
export async function readBodyWithinLimit(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number, logger: HostLogger): Promise<Buffer | undefined> {
  if (declaredLengthOverLimit(req, maxBodyBytes) !== undefined) {
    sendBodyTooLarge(res, maxBodyBytes);
    return undefined;
  }
  try {
    return await readRequestBody(req, maxBodyBytes);
  } catch (error) {
    if (error instanceof RequestBodyTooLargeError) {
      sendBodyTooLarge(res, maxBodyBytes);
    } else {
      logger.info({ method: req.method, path: req.url?.split('?')[0], reason: (error as Error).message }, 'request body not received');
      res.destroy();
    }
    return undefined;
  }
}

export type JsonParseResult = { ok: true; value: unknown } | { ok: false; reason: string };

/** Parses a body as UTF-8 JSON. A failure returns the reason, for a 400 response. */
export function parseJsonBody(bytes: Buffer): JsonParseResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, reason: 'The body is not valid UTF-8.' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, reason: `The body is not valid JSON: ${(error as Error).message}.` };
  }
}
