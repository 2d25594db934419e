import type { RuntimeStatus } from '../durable/types';

/** Query parameters of the management API, parsed strictly: an invalid value raises `InvalidRequestError`. */

/** A management request that the host rejects with 400. The message names the value and the fix. */
export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

const runtimeStatuses: readonly RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Terminated', 'Suspended'];

/** Parses `true` or `false` (any case), or returns `defaultValue` when the parameter is absent or empty. */
export function readBooleanParameter(url: URL, name: string, defaultValue: boolean): boolean {
  const value = url.searchParams.get(name);
  if (value === null || value === '') {
    return defaultValue;
  }
  if (!/^(true|false)$/i.test(value)) {
    throw new InvalidRequestError(`The query parameter ${name} is "${value}", but it must be true or false.`);
  }
  return value.toLowerCase() === 'true';
}

/** Parses a date such as `2024-05-01T00:00:00Z`, or returns undefined when the parameter is absent or empty. */
export function readDateParameter(url: URL, name: string): Date | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === '') {
    return undefined;
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidRequestError(`The query parameter ${name} is "${value}", but it must be an ISO 8601 date and time, such as 2024-05-01T00:00:00Z.`);
  }
  return date;
}

/** Parses a comma-separated list of runtime statuses (any case, repeated parameters allowed), or returns undefined when absent. */
export function readRuntimeStatusParameter(url: URL): RuntimeStatus[] | undefined {
  const values = url.searchParams
    .getAll('runtimeStatus')
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (values.length === 0) {
    return undefined;
  }
  return values.map((value) => {
    const status = runtimeStatuses.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
    if (!status) {
      throw new InvalidRequestError(`The query parameter runtimeStatus contains "${value}", but the runtime statuses are ${runtimeStatuses.join(', ')}.`);
    }
    return status;
  });
}

/** Parses a positive integer, or returns undefined when the parameter is absent or empty. */
export function readPositiveIntegerParameter(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === '') {
    return undefined;
  }
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidRequestError(`The query parameter ${name} is "${value}", but it must be a positive integer.`);
  }
  return Number(value);
}

/** Parses a non-negative number of seconds, such as `timeout=30` or `pollingInterval=0.5`, or returns undefined when absent. */
export function readSecondsParameter(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === '') {
    return undefined;
  }
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidRequestError(`The query parameter ${name} is "${value}", but it must be a non-negative number of seconds.`);
  }
  return seconds;
}

/**
 * Checks an orchestration instance id with the rules of the Durable Functions extension: at most
 * 256 characters, not starting with `@` (which marks entities), and without `/`, `\`, `#`, `?`
 * or control characters.
 */
export function validateInstanceId(instanceId: string): void {
  if (instanceId === '' || instanceId.length > 256) {
    throw new InvalidRequestError(`The instance id "${instanceId.slice(0, 300)}" must have 1 to 256 characters.`);
  }
  if (instanceId.startsWith('@')) {
    throw new InvalidRequestError(`The instance id "${instanceId}" starts with @, which is reserved for entities. Choose another id.`);
  }
  if (/[/\\#?\u0000-\u001f\u007f-\u009f]/.test(instanceId)) {
    throw new InvalidRequestError(`The instance id "${instanceId}" contains /, \\, #, ?, or a control character, which instance ids must not contain.`);
  }
}
