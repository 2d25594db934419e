import crypto from 'node:crypto';

export type SignatureFailureReason = 'missing' | 'malformed' | 'mismatch';

export type SignatureCheck = { valid: true } | { valid: false; reason: SignatureFailureReason; message: string };

const signaturePattern = /^sha256=([0-9a-f]{64})$/;

/**
 * Verifies a signature header of the form `sha256=<lowercase hex of HMAC-SHA256(secret, rawBody)>`.
 * The comparison takes the same time wherever the signatures differ. Failure messages
 * name the header but never contain the secret or the expected signature.
 */
export function verifyHmacSha256(
  rawBody: Uint8Array,
  headerValue: string | null | undefined,
  secret: string,
  headerName = 'X-Signature',
): SignatureCheck {
  if (headerValue === null || headerValue === undefined || headerValue.trim() === '') {
    return {
      valid: false,
      reason: 'missing',
      message: `Header ${headerName} is missing. Sign the raw request body with HMAC-SHA256 and send "${headerName}: sha256=<lowercase hex>".`,
    };
  }

  const match = signaturePattern.exec(headerValue.trim());
  if (match === null) {
    return {
      valid: false,
      reason: 'malformed',
      message: `Header ${headerName} is malformed. Expected "sha256=" followed by 64 lowercase hex characters.`,
    };
  }

  const received = Buffer.from(match[1], 'hex');
  const expected = crypto.createHmac('sha256', secret).update(rawBody).digest();
  if (!crypto.timingSafeEqual(received, expected)) {
    return {
      valid: false,
      reason: 'mismatch',
      message: `Header ${headerName} does not match the request body. Sign the exact bytes sent, with the secret agreed for this connector.`,
    };
  }
  return { valid: true };
}

/** Returns the `sha256=<hex>` header value for `rawBody`, as a partner computes it. */
export function signHmacSha256(rawBody: Uint8Array, secret: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
