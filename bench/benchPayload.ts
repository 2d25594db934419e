import crypto from 'node:crypto';

/**
 * The JSON payload of the load runs and its signature. Every payload carries a unique bench
 * message id (`benchId`), which is also its dedup key, and the transform keeps it, so the target
 * can match each delivery to the request that the load process sent.
 */

export const payloadBytes = 1_024;
export const signatureHeader = 'x-signature';
export const dedupKeyHeader = 'webhook-id';

/** The bench connector's transform. It keeps `benchId` and reshapes the rest. */
export const benchTransformExpression =
  "{ 'benchId': benchId, 'id': orderId, 'state': status, 'customer': customer.name, 'itemCount': $count(items), 'total': $sum(items.(price * quantity)) }";

/** Returns the payload for `benchId`, padded with the `note` field to exactly `payloadBytes` bytes. */
export function buildPayload(benchId: string): Buffer {
  const payload = {
    benchId,
    orderId: `order-${benchId}`,
    status: 'shipped',
    updatedAt: '2026-12-05T00:00:00.000Z',
    customer: { name: 'Bench Customer', email: 'bench@example.com', country: 'DE' },
    items: [
      { sku: 'SKU-1', quantity: 2, price: 12.5 },
      { sku: 'SKU-2', quantity: 1, price: 99.9 },
      { sku: 'SKU-3', quantity: 5, price: 1.25 },
    ],
    note: '',
  };
  const unpaddedBytes = Buffer.byteLength(JSON.stringify(payload));
  if (unpaddedBytes > payloadBytes) {
    throw new Error(`The bench payload for ${benchId} has ${unpaddedBytes} bytes before padding, more than ${payloadBytes}. Use a shorter bench id.`);
  }
  payload.note = 'x'.repeat(payloadBytes - unpaddedBytes);
  return Buffer.from(JSON.stringify(payload));
}

/** Returns the `x-signature` value that the connector's `hmac-sha256` scheme checks: `sha256=` and the hex HMAC of the exact bytes. */
export function signPayload(body: Buffer, secret: string): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Epoch time in milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export function epochMilliseconds(): number {
  return performance.timeOrigin + performance.now();
}
