import { errorMessageOf } from '../errors';

/** The timeouts of a destination, named in the errors they cause. */
export interface TimeoutSettings {
  connectTimeoutInMilliseconds: number;
  headersTimeoutInMilliseconds: number;
}

/**
 * Describes an error of undici or of the socket for the attempt record: which timeout elapsed
 * and its value, or the network error with its code.
 */
export function describeTransportError(error: unknown, timeouts: TimeoutSettings): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `connect timeout: no connection within connectTimeoutInMilliseconds ${timeouts.connectTimeoutInMilliseconds} ms (TLS handshake included)`;
  }
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return `headers timeout: no response headers within headersTimeoutInMilliseconds ${timeouts.headersTimeoutInMilliseconds} ms`;
  }

  const message = errorMessageOf(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const codeText = typeof code === 'string' && !message.includes(code) ? ` (${code})` : '';
  return `request failed: ${message}${codeText}${cause}`;
}
