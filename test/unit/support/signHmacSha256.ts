import crypto from 'node:crypto';

/** Returns the `sha256=<hex>` header value for `rawBody`, as a partner computes it for the `hmac-sha256` scheme. */
export function signHmacSha256(rawBody: Uint8Array, secret: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
