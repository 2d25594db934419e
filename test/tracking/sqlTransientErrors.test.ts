import pino from 'pino';
import { ConnectionError, RequestError } from 'tedious';
import { describe, expect, it } from 'vitest';

import { retryDelayInMilliseconds, runWithRetry, type SqlRetryPolicy } from '../../lib/tracking/sql/runWithRetry';
import { isTransientSqlError, transientSqlErrorNumbers } from '../../lib/tracking/sql/transientErrors';

/** Five attempts, waits of 100 ms doubling up to 500 ms. */
const testPolicy: SqlRetryPolicy = { maxAttempts: 5, firstDelayInMilliseconds: 100, maxDelayInMilliseconds: 500 };

function requestErrorWithNumber(number: number): RequestError {
  const error = new RequestError(`SQL error ${number}`, 'EREQUEST');
  error.number = number;
  return error;
}

function collectingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('transient SQL error classification', () => {
  it.each([...transientSqlErrorNumbers])('error number %i is transient', (number) => {
    expect(isTransientSqlError(requestErrorWithNumber(number))).toBe(true);
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'ESOCKET', 'ETIMEOUT'])('connection code %s is transient', (code) => {
    expect(isTransientSqlError(new ConnectionError('connection lost', code))).toBe(true);
  });

  it.each([2627, 2601, 547, 102, 208])('error number %i is not transient', (number) => {
    expect(isTransientSqlError(requestErrorWithNumber(number))).toBe(false);
  });

  it('login failure is not transient', () => {
    expect(isTransientSqlError(new ConnectionError('Login failed for user', 'ELOGIN'))).toBe(false);
  });

  it('transient cause is found', () => {
    const wrapped = new Error('claimMessage failed', { cause: requestErrorWithNumber(40613) });

    expect(isTransientSqlError(wrapped)).toBe(true);
  });

  it('non-error value is not transient', () => {
    expect(isTransientSqlError('ECONNRESET')).toBe(false);
  });
});

describe('runWithRetry', () => {
  it('transient failures are retried until success', async () => {
    const { logger, lines } = collectingLogger();
    const delays: number[] = [];
    let calls = 0;

    const result = await runWithRetry(
      async () => {
        calls += 1;
        if (calls < 3) {
          throw requestErrorWithNumber(40501);
        }
        return 'done';
      },
      { operationName: 'claimMessage', logger, policy: testPolicy, sleep: async (delay) => void delays.push(delay) },
    );

    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(delays).toEqual([100, 200]);
    expect(lines.map((line) => line.msg)).toEqual([
      'tracking SQL operation failed with a transient error, retrying',
      'tracking SQL operation failed with a transient error, retrying',
    ]);
    expect(lines[0]?.operationName).toBe('claimMessage');
  });

  it('permanent failure is thrown at once', async () => {
    const { logger, lines } = collectingLogger();
    let calls = 0;
    const duplicate = requestErrorWithNumber(2627);

    const run = runWithRetry(
      async () => {
        calls += 1;
        throw duplicate;
      },
      { operationName: 'insert', logger, policy: testPolicy, sleep: async () => undefined },
    );

    await expect(run).rejects.toBe(duplicate);
    expect(calls).toBe(1);
    expect(lines).toHaveLength(0);
  });

  it('attempts are bounded', async () => {
    const { logger } = collectingLogger();
    let calls = 0;
    const reset = new ConnectionError('socket reset', 'ECONNRESET');

    const run = runWithRetry(
      async () => {
        calls += 1;
        throw reset;
      },
      { operationName: 'ping', logger, policy: testPolicy, sleep: async () => undefined },
    );

    await expect(run).rejects.toBe(reset);
    expect(calls).toBe(testPolicy.maxAttempts);
  });

  it('delay doubles up to the maximum', () => {
    const delays = [1, 2, 3, 4, 5].map((attempt) => retryDelayInMilliseconds(testPolicy, attempt));

    expect(delays).toEqual([100, 200, 400, 500, 500]);
  });

  it('retry log contains no password', async () => {
    const { logger, lines } = collectingLogger();
    let calls = 0;

    await runWithRetry(
      async () => {
        calls += 1;
        if (calls === 1) {
          throw new ConnectionError('connection reset', 'ECONNRESET');
        }
      },
      { operationName: 'ping', logger, policy: testPolicy, sleep: async () => undefined },
    );

    expect(JSON.stringify(lines)).not.toContain('password');
  });
});
