import crypto from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { signHmacSha256, verifyHmacSha256 } from '../../lib/signature/verifyHmacSha256';

const secret = 'sample-secret-for-tests';
const body = Buffer.from('{"orderId":"123","status":"paid"}');

function expectedHex(): string {
  return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

describe('verifyHmacSha256', () => {
  test('accepts a correct signature', () => {
    expect(verifyHmacSha256(body, `sha256=${expectedHex()}`, secret)).toEqual({ valid: true });
  });

  test('signHmacSha256 produces the header value', () => {
    expect(signHmacSha256(body, secret)).toBe(`sha256=${expectedHex()}`);
  });

  test('rejects a missing header', () => {
    const check = verifyHmacSha256(body, null, secret);

    expect(check).toMatchObject({ valid: false, reason: 'missing' });
  });

  test('rejects an empty header as missing', () => {
    const check = verifyHmacSha256(body, '', secret);

    expect(check).toMatchObject({ valid: false, reason: 'missing' });
  });

  test('rejects a header without the prefix', () => {
    const check = verifyHmacSha256(body, expectedHex(), secret);

    expect(check).toMatchObject({ valid: false, reason: 'malformed' });
  });

  test('rejects uppercase hex as malformed', () => {
    const check = verifyHmacSha256(body, `sha256=${expectedHex().toUpperCase()}`, secret);

    expect(check).toMatchObject({ valid: false, reason: 'malformed' });
  });

  test('rejects a short signature as malformed', () => {
    const check = verifyHmacSha256(body, 'sha256=abc123', secret);

    expect(check).toMatchObject({ valid: false, reason: 'malformed' });
  });

  test('rejects a signature of other bytes', () => {
    const otherSignature = signHmacSha256(Buffer.from('{"orderId":"124"}'), secret);

    const check = verifyHmacSha256(body, otherSignature, secret);

    expect(check).toMatchObject({ valid: false, reason: 'mismatch' });
  });

  test('rejects a signature made with another secret', () => {
    const check = verifyHmacSha256(body, signHmacSha256(body, 'other-secret'), secret);

    expect(check).toMatchObject({ valid: false, reason: 'mismatch' });
  });

  test('messages never contain the secret or expected signature', () => {
    const headers = [undefined, 'sha256=zz', signHmacSha256(body, 'other-secret')];

    for (const header of headers) {
      const check = verifyHmacSha256(body, header, secret, 'X-Signature');
      const message = check.valid ? '' : check.message;
      expect(message).toContain('X-Signature');
      expect(message).not.toContain(secret);
      expect(message).not.toContain(expectedHex());
    }
  });
});
