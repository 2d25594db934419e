/**
 * The connector's error vocabulary. Activities throw these classes so that orchestrators
 * and triggers can tell a failure worth retrying from one that will fail again.
 */

/** A failure that will happen again on every retry, such as a 400 response or an invalid payload. */
export class PermanentError extends Error {
  override name = 'PermanentError';

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options);
  }
}

/** A failure that may pass on a later attempt, such as a timeout, a network error or a 503 response. */
export class RetryableError extends Error {
  override name = 'RetryableError';

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options);
  }
}

/**
 * An invalid setting or connectors file. It is permanent because retrying cannot fix it,
 * and it stops start-up when the configuration is loaded.
 */
export class ConfigurationError extends PermanentError {
  override name = 'ConfigurationError';
}

/** Returns the message of `error`, or its string form when it is not an Error. */
export function errorMessageOf(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
