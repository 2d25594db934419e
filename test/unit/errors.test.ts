import { describe, expect, test } from 'vitest';
import { ConfigurationError, PermanentError, RetryableError, errorMessageOf } from '../../lib/errors';

describe('errors', () => {
  test('permanent error keeps name and cause', () => {
    const cause = new Error('HTTP 400');
    const error = new PermanentError('delivery failed', { cause });

    expect(error.name).toBe('PermanentError');
    expect(error.cause).toBe(cause);
    expect(error.stack?.startsWith('PermanentError: delivery failed')).toBe(true);
  });

  test('retryable error keeps name and cause', () => {
    const cause = new Error('ECONNRESET');
    const error = new RetryableError('delivery failed', { cause });

    expect(error.name).toBe('RetryableError');
    expect(error.cause).toBe(cause);
  });

  test('configuration error is permanent', () => {
    const error = new ConfigurationError('bad file');

    expect(error).toBeInstanceOf(PermanentError);
    expect(error.name).toBe('ConfigurationError');
  });

  test('errorMessageOf handles non-errors', () => {
    expect(errorMessageOf(new Error('x'))).toBe('x');
    expect(errorMessageOf('plain')).toBe('plain');
  });
});
