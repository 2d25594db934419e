export type DeliveryOutcome = 'delivered' | 'retryable' | 'permanent';

export interface DeliveryRequest {
  url: string;
  method: string;
  body: Uint8Array | string;
  /** Sent as the `Content-Type` header. Defaults to `application/json`. */
  contentType?: string;
  /** Sent as the `Idempotency-Key` header. The same on every attempt of one delivery. */
  idempotencyKey: string;
  timeoutInMilliseconds: number;
}

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  /** Present when the destination responded. */
  statusCode?: number;
  /** Present when the attempt failed: the network error, the timeout or the status. */
  error?: string;
  durationInMilliseconds: number;
  /** Up to the first 4096 bytes of the response body, decoded as UTF-8. */
  responseBodyStart: string;
  /** The response's `Retry-After` when it is a whole number of seconds, in ms. */
  retryAfterInMilliseconds?: number;
}

export type FetchFunction = typeof fetch;

/** Maximum number of response body bytes kept for the attempt record. */
export const responseBodyStartBytes = 4096;

/**
 * Makes one HTTP attempt to a destination and classifies the result. A 2xx status is
 * delivered. 408, 429, 5xx, network errors and timeouts are retryable. Any other status
 * is permanent, and that includes a redirect, which is not followed. The timeout also
 * covers reading the start of the response body. A failed attempt is returned, not thrown.
 */
export async function deliverOnce(request: DeliveryRequest, fetchFunction: FetchFunction = fetch): Promise<DeliveryResult> {
  const startedAt = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startedAt);
  const signal = AbortSignal.timeout(request.timeoutInMilliseconds);

  let response: Response;
  let responseBodyStart: string;
  try {
    response = await fetchFunction(request.url, {
      method: request.method,
      body: request.body,
      headers: { 'Content-Type': request.contentType ?? 'application/json', 'Idempotency-Key': request.idempotencyKey },
      redirect: 'manual',
      signal,
    });
    responseBodyStart = await readBodyStart(response, responseBodyStartBytes);
  } catch (error) {
    return {
      outcome: 'retryable',
      error: describeFetchError(error, request.timeoutInMilliseconds),
      durationInMilliseconds: elapsed(),
      responseBodyStart: '',
    };
  }

  const statusCode = response.status;
  const outcome = classifyStatus(statusCode);
  const result: DeliveryResult = { outcome, statusCode, durationInMilliseconds: elapsed(), responseBodyStart };
  if (outcome !== 'delivered') {
    result.error = describeStatus(response);
  }
  const retryAfter = response.headers.get('retry-after')?.trim() ?? '';
  if (/^\d+$/.test(retryAfter)) {
    result.retryAfterInMilliseconds = Number(retryAfter) * 1000;
  }
  return result;
}

/** Classifies an HTTP status code of a destination's response. */
export function classifyStatus(statusCode: number): DeliveryOutcome {
  if (statusCode >= 200 && statusCode < 300) {
    return 'delivered';
  }
  if (statusCode === 408 || statusCode === 429 || statusCode >= 500) {
    return 'retryable';
  }
  return 'permanent';
}

function describeStatus(response: Response): string {
  const statusText = response.statusText === '' ? '' : ` ${response.statusText}`;
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location') ?? 'no Location header';
    return `HTTP ${response.status}${statusText}: redirects are not followed (${location})`;
  }
  return `HTTP ${response.status}${statusText}`;
}

/**
 * Reads at most `maxBytes` of the body and cancels the rest, so that a large or endless
 * response does not hold the attempt.
 */
async function readBodyStart(response: Response, maxBytes: number): Promise<string> {
  if (response.body === null) {
    return '';
  }

  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let byteCount = 0;
  try {
    while (byteCount < maxBytes) {
      const { done, value } = await reader.read();
      if (done) {
        break;
      }
      chunks.push(value);
      byteCount += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }

  const bytes = Buffer.concat(chunks).subarray(0, maxBytes);
  return new TextDecoder('utf-8').decode(bytes);
}

function describeFetchError(error: unknown, timeoutInMilliseconds: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutInMilliseconds} ms`;
  }
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
