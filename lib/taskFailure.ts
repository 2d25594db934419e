/**
 * Reading the error that a failed activity or sub-orchestration throws into an
 * orchestrator. `durable-functions` throws a `TaskFailedError` with `failureDetails` when
 * the host sends structured failure details, and otherwise an Error whose message joins
 * the host's reason and details.
 */

interface FailureDetailsLike {
  errorType?: string;
  errorMessage?: string;
  stackTrace?: string;
  isNonRetriable?: boolean;
}

const permanentErrorNames = new Set(['PermanentError', 'ConfigurationError']);

/** Matches the first line of a stack trace of a permanent error, as hosts copy it into failure details. */
const permanentErrorAtLineStart = /(^|\n)\s*(PermanentError|ConfigurationError):/;

/** Maximum length of a failure description, so an error message stays readable in a status response. */
const maxDescriptionLength = 1000;

/**
 * Returns true when the task failed with a PermanentError or a ConfigurationError, or
 * when the host marked the failure non-retriable.
 *
 * NOTE: this relies on the host passing the error's type, message or stack. A host that
 * passes none of them makes a permanent failure look retryable, so it is retried until
 * the attempts run out.
 */
export function isPermanentFailure(error: unknown): boolean {
  const details = failureDetailsOf(error);
  if (details !== undefined) {
    if (details.isNonRetriable === true || permanentErrorNames.has(details.errorType ?? '')) {
      return true;
    }
    return permanentErrorAtLineStart.test(details.stackTrace ?? '');
  }
  if (error instanceof Error) {
    return permanentErrorNames.has(error.name) || permanentErrorAtLineStart.test(error.message);
  }
  return false;
}

/** Returns the message of a failed task on one line, without a stack trace. */
export function describeTaskFailure(error: unknown): string {
  const details = failureDetailsOf(error);
  let text: string;
  if (details?.errorMessage !== undefined) {
    text = details.errorMessage;
  } else if (error instanceof Error) {
    text = error.message;
  } else {
    text = String(error);
  }

  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('at '));
  const description = lines.join(' ');
  if (description.length <= maxDescriptionLength) {
    return description;
  }
  return `${description.slice(0, maxDescriptionLength)}...`;
}

function failureDetailsOf(error: unknown): FailureDetailsLike | undefined {
  if (typeof error !== 'object' || error === null || !('failureDetails' in error)) {
    return undefined;
  }
  const details = (error as { failureDetails: unknown }).failureDetails;
  return typeof details === 'object' && details !== null ? (details as FailureDetailsLike) : undefined;
}
