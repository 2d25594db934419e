import crypto from 'node:crypto';

/** Key for hashing both sides of a comparison, so that inputs of any length compare in constant time. */
const comparisonKey = crypto.randomBytes(32);

/**
 * Returns true when `received` and `expected` contain the same bytes. Both are hashed with
 * HMAC-SHA256 under a random key first, so the time taken depends neither on where they
 * differ nor on the length of `expected`.
 */
export function constantTimeEqual(received: Uint8Array, expected: Uint8Array): boolean {
  const receivedDigest = crypto.createHmac('sha256', comparisonKey).update(received).digest();
  const expectedDigest = crypto.createHmac('sha256', comparisonKey).update(expected).digest();
  return crypto.timingSafeEqual(receivedDigest, expectedDigest);
}

/** Returns true when `received` equals any of `candidates`, comparing with every candidate. */
export function constantTimeEqualsAny(received: Uint8Array, candidates: readonly Uint8Array[]): boolean {
  let matched = false;
  for (const candidate of candidates) {
    matched = constantTimeEqual(received, candidate) || matched;
  }
  return matched;
}
