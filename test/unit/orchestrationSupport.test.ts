import { TaskFailedError } from 'durable-functions';
import { describe, expect, test } from 'vitest';
import { decideVersionOffer } from '../../entities/trackedEntity';
import { PermanentError, RetryableError } from '../../lib/errors';
import { describeTaskFailure, isPermanentFailure } from '../../lib/taskFailure';

function taskFailedError(errorType: string, errorMessage: string, stackTrace?: string): TaskFailedError {
  return new TaskFailedError({ errorType, errorMessage, stackTrace, isNonRetriable: false, isCausedBy: (type) => type === errorType });
}

describe('decideVersionOffer', () => {
  const at = '2024-05-01T10:00:00.000Z';

  test('first offer is accepted', () => {
    const decision = decideVersionOffer(undefined, { version: 1, messageId: 'm1' }, at);

    expect(decision.result).toEqual({ accepted: true });
    expect(decision.state).toEqual({ version: 1, messageId: 'm1', updatedAt: at });
  });

  test('newer version is accepted', () => {
    const decision = decideVersionOffer({ version: 1, messageId: 'm1', updatedAt: at }, { version: 2, messageId: 'm2' }, at);

    expect(decision.result).toEqual({ accepted: true, previousVersion: 1 });
    expect(decision.state?.messageId).toBe('m2');
  });

  test('older version is stale', () => {
    const state = { version: '2024-05-02T00:00:00Z', messageId: 'm2', updatedAt: at };

    const decision = decideVersionOffer(state, { version: '2024-05-01T00:00:00Z', messageId: 'm1' }, at);

    expect(decision.result).toEqual({ accepted: false, previousVersion: '2024-05-02T00:00:00Z' });
    expect(decision.state).toBe(state);
  });

  test('equal version from another message is stale', () => {
    const decision = decideVersionOffer({ version: 5, messageId: 'm1', updatedAt: at }, { version: 5, messageId: 'm2' }, at);

    expect(decision.result.accepted).toBe(false);
  });

  test('same message offered again is accepted', () => {
    const decision = decideVersionOffer({ version: 5, messageId: 'm1', updatedAt: at }, { version: 5, messageId: 'm1' }, at);

    expect(decision.result.accepted).toBe(true);
  });
});

describe('isPermanentFailure', () => {
  test('reads the error type of failure details', () => {
    expect(isPermanentFailure(taskFailedError('PermanentError', 'HTTP 400'))).toBe(true);
    expect(isPermanentFailure(taskFailedError('ConfigurationError', 'bad'))).toBe(true);
    expect(isPermanentFailure(taskFailedError('RetryableError', 'HTTP 503'))).toBe(false);
  });

  test('reads the stack when the type is generic', () => {
    expect(isPermanentFailure(taskFailedError('Error', 'HTTP 400', 'PermanentError: HTTP 400\n    at deliverPayload'))).toBe(true);
  });

  test('reads the reason and details text', () => {
    const error = new Error("Activity function 'deliverPayload' failed \n PermanentError: HTTP 400\n    at deliverPayload");

    expect(isPermanentFailure(error)).toBe(true);
  });

  test('retryable errors are not permanent', () => {
    expect(isPermanentFailure(new Error('RetryableError: HTTP 503'))).toBe(false);
    expect(isPermanentFailure(new RetryableError('HTTP 503'))).toBe(false);
  });

  test('a thrown permanent error is permanent', () => {
    expect(isPermanentFailure(new PermanentError('HTTP 400'))).toBe(true);
  });
});

describe('describeTaskFailure', () => {
  test('uses the failure details message', () => {
    expect(describeTaskFailure(taskFailedError('RetryableError', 'Attempt 1 failed: HTTP 503.'))).toBe('Attempt 1 failed: HTTP 503.');
  });

  test('drops stack lines and joins the rest', () => {
    const error = new Error('Reason text \n RetryableError: HTTP 503\n    at deliverPayload (file.js:1:1)');

    expect(describeTaskFailure(error)).toBe('Reason text RetryableError: HTTP 503');
  });

  test('shortens long messages', () => {
    expect(describeTaskFailure(new Error('x'.repeat(5000)))).toHaveLength(1003);
  });
});
