import crypto from 'node:crypto';
import { missingHeaders, rejectWith, validCredentials, type CredentialCheck } from './authRejection';
import { checkTimestamp } from './checkTimestamp';
import type { RequestHeaders } from './clientAddress';

export const webhookIdHeader = 'webhook-id';
export const webhookTimestampHeader = 'webhook-timestamp';
export const webhookSignatureHeader = 'webhook-signature';

const signatureVersion = 'v1';

/** Length of an HMAC-SHA256, in bytes. */
const hmacSha256Bytes = 32;

const signatureInstruction =
  `Send ${webhookIdHeader}, ${webhookTimestampHeader} (Unix seconds) and ${webhookSignatureHeader} ` +
  `("${signatureVersion},<base64 HMAC-SHA256 of id.timestamp.body>") as the Standard Webhooks specification defines.`;

export interface StandardWebhookRequest {
  headers: RequestHeaders;
  rawBody: Uint8Array;
}

export interface StandardWebhookOptions {
  /** The decoded keys of the accepted secrets, usually one and two during a rotation. */
  keys: readonly Buffer[];
  nowInSeconds: number;
  toleranceInSeconds: number;
}

/**
 * Verifies a Standard Webhooks request: the three headers are present, the timestamp is
 * within the tolerance, and one of the `v1` signatures in `webhook-signature` is the
 * HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<raw body>` under one of the keys. The
 * header is a space-separated list, so a sender can sign with an old and a new secret.
 * Signatures of other versions are ignored.
 */
export function verifyStandardWebhook(request: StandardWebhookRequest, options: StandardWebhookOptions): CredentialCheck {
  const id = request.headers.get(webhookIdHeader)?.trim() ?? '';
  const timestamp = request.headers.get(webhookTimestampHeader)?.trim() ?? '';
  const signatureList = request.headers.get(webhookSignatureHeader)?.trim() ?? '';
  const missing = [
    [webhookIdHeader, id],
    [webhookTimestampHeader, timestamp],
    [webhookSignatureHeader, signatureList],
  ]
    .filter(([, value]) => value === '')
    .map(([name]) => name);
  if (missing.length > 0) {
    return missingHeaders(missing, signatureInstruction);
  }

  const timestampCheck = checkTimestamp(webhookTimestampHeader, timestamp, options.nowInSeconds, options.toleranceInSeconds);
  if (!timestampCheck.valid) {
    return timestampCheck;
  }

  const received = parseSignatures(signatureList);
  if (received.length === 0) {
    return rejectWith({
      status: 401,
      reason: 'malformed-header',
      title: 'Invalid signature',
      header: webhookSignatureHeader,
      detail: `Header ${webhookSignatureHeader} contains no "${signatureVersion},<base64>" signature of ${hmacSha256Bytes} bytes. ${signatureInstruction}`,
    });
  }

  const signedContent = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), request.rawBody]);
  const expected = options.keys.map((key) => crypto.createHmac('sha256', key).update(signedContent).digest());
  let matched = false;
  for (const signature of received) {
    for (const candidate of expected) {
      matched = crypto.timingSafeEqual(signature, candidate) || matched;
    }
  }
  if (!matched) {
    return rejectWith({
      status: 401,
      reason: 'invalid-signature',
      title: 'Invalid signature',
      header: webhookSignatureHeader,
      detail:
        `No signature in header ${webhookSignatureHeader} matches ${webhookIdHeader}, ${webhookTimestampHeader} and the body. ` +
        'Sign the exact bytes sent, with the secret agreed for this connector.',
    });
  }
  return validCredentials;
}

/** Returns the decoded `v1` signatures of a `webhook-signature` value that have the length of an HMAC-SHA256. */
function parseSignatures(signatureList: string): Buffer[] {
  const signatures: Buffer[] = [];
  for (const entry of signatureList.split(' ')) {
    const separator = entry.indexOf(',');
    if (separator < 0 || entry.slice(0, separator) !== signatureVersion) {
      continue;
    }
    const encoded = entry.slice(separator + 1);
    const signature = Buffer.from(encoded, 'base64');
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) && signature.length === hmacSha256Bytes) {
      signatures.push(signature);
    }
  }
  return signatures;
}

/** Returns the `webhook-signature` value for a message, as a sender computes it with `key`. */
export function signStandardWebhook(key: Uint8Array, id: string, timestamp: number, rawBody: Uint8Array): string {
  const signedContent = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), rawBody]);
  return `${signatureVersion},${crypto.createHmac('sha256', key).update(signedContent).digest('base64')}`;
}
