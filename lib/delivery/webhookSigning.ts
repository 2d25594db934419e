import { signStandardWebhook, webhookIdHeader, webhookSignatureHeader, webhookTimestampHeader } from '../auth/verifyStandardWebhook';

/**
 * Returns the Standard Webhooks headers of one request: `webhook-id` is the delivery's
 * idempotency key, `webhook-timestamp` the Unix seconds of `now`, and `webhook-signature`
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with `key`. The caller signs each request
 * anew, also each redirect hop, so that the timestamp is that of the request.
 */
export function webhookSigningHeaders(key: Uint8Array, idempotencyKey: string, now: Date, body: Uint8Array): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    [webhookIdHeader]: idempotencyKey,
    [webhookTimestampHeader]: String(timestamp),
    [webhookSignatureHeader]: signStandardWebhook(key, idempotencyKey, timestamp, body),
  };
}
