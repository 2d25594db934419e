import type { IncomingMessage } from 'node:http';

/** Raised when a request body is larger than the host accepts. */
export class RequestBodyTooLargeError extends Error {
  constructor(readonly maxBodyBytes: number) {
    super(`The request body is larger than ${maxBodyBytes} bytes.`);
    this.name = 'RequestBodyTooLargeError';
  }
}

/**
 * Returns `Content-Length` when it is larger than `maxBodyBytes`, so that the request can be
 * rejected before its body is read. Otherwise returns undefined.
 */
export function declaredLengthOverLimit(req: IncomingMessage, maxBodyBytes: number): number | undefined {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > maxBodyBytes ? declared : undefined;
}

/**
 * Reads the whole request body as the exact bytes received. Rejects with
 * `RequestBodyTooLargeError` as soon as more than `maxBodyBytes` arrive, and stops reading.
 */
export function readRequestBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;

    const onData = (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > maxBodyBytes) {
        cleanUp();
        req.pause();
        reject(new RequestBodyTooLargeError(maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanUp();
      resolve(Buffer.concat(chunks, receivedBytes));
    };
    const onError = (error: Error) => {
      cleanUp();
      reject(error);
    };
    const onClose = () => {
      cleanUp();
      reject(new Error('The client closed the connection before the request body was complete.'));
    };
    const cleanUp = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
