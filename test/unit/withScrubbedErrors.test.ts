import { expect, test } from 'vitest';
import { withScrubbedErrors } from '../../lib/redaction/withScrubbedErrors';

const secret = 'partner-secret-4711';
const scrub = (text: string): string => text.replaceAll(secret, '[redacted]');

test('thrown error loses the secret', async () => {
  const handler = withScrubbedErrors(async () => {
    throw new Error(`target rejected key ${secret}`);
  }, scrub);

  const error = (await handler(undefined).catch((caught: unknown) => caught)) as Error;

  expect(error.message).toBe('target rejected key [redacted]');
  expect(error.stack).not.toContain(secret);
});

test('result passes through unchanged', async () => {
  const handler = withScrubbedErrors(async (input) => ({ echoed: input }), scrub);

  expect(await handler(secret)).toEqual({ echoed: secret });
});
