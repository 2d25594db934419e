import crypto from 'node:crypto';
import { defaultToleranceInSeconds, type HmacAlgorithm, type SignatureEncoding } from './authConfig';
import { missingHeaders, rejectWith, validCredentials, type CredentialCheck } from './authRejection';
import { checkTimestamp } from './checkTimestamp';
import type { RequestHeaders } from './clientAddress';

/** Length of each algorithm's HMAC, in bytes. */
const digestBytes: Record<HmacAlgorithm, number> = { sha256: 32, sha512: 64 };

/** Algorithm, encoding and headers of an HMAC signature scheme. */
export interface HmacSignatureFormat {
  header: string;
  algorithm: HmacAlgorithm;
  encoding: SignatureEncoding;
  /** Text before the encoded signature, such as `sha256=`. Empty when there is none. */
  prefix: string;
  timestampHeader?: string;
  /** Maximum difference between the timestamp and the server time, 300 seconds when not set. */
  toleranceInSeconds?: number;
}

export interface HmacSignatureRequest {
  headers: RequestHeaders;
  rawBody: Uint8Array;
}

export interface HmacSignatureOptions {
  /** Keys of the accepted secrets, usually one and two during a rotation. */
  keys: readonly Buffer[];
  nowInSeconds: number;
}

/**
 * Verifies that `format.header` contains the prefix and the encoded HMAC of the signed text
 * under one of the keys. The signed text is the raw body, or `<timestamp>.<raw body>` when
 * `format.timestampHeader` is set, and then the timestamp must also be within the tolerance.
 * Hex is accepted in either case, and base64 in the standard or the URL-safe alphabet.
 */
export function verifyHmacSignature(request: HmacSignatureRequest, format: HmacSignatureFormat, options: HmacSignatureOptions): CredentialCheck {
  const instruction = describeSignature(format);
  const headerValue = request.headers.get(format.header)?.trim() ?? '';
  const timestamp = format.timestampHeader === undefined ? undefined : (request.headers.get(format.timestampHeader)?.trim() ?? '');
  const missing = [headerValue === '' ? format.header : undefined, timestamp === '' ? format.timestampHeader : undefined].filter(
    (name): name is string => name !== undefined,
  );
  if (missing.length > 0) {
    return missingHeaders(missing, instruction);
  }

  if (format.timestampHeader !== undefined && timestamp !== undefined) {
    const tolerance = format.toleranceInSeconds ?? defaultToleranceInSeconds;
    const timestampCheck = checkTimestamp(format.timestampHeader, timestamp, options.nowInSeconds, tolerance);
    if (!timestampCheck.valid) {
      return timestampCheck;
    }
  }

  const received = decodeSignature(headerValue, format);
  if (received === undefined) {
    return rejectWith({
      status: 401,
      reason: 'malformed-header',
      title: 'Invalid signature',
      header: format.header,
      detail: `Header ${format.header} is malformed. ${instruction}`,
    });
  }

  const signedText = timestamp === undefined ? request.rawBody : Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), request.rawBody]);
  let matched = false;
  for (const key of options.keys) {
    const expected = crypto.createHmac(format.algorithm, key).update(signedText).digest();
    matched = crypto.timingSafeEqual(received, expected) || matched;
  }
  if (!matched) {
    const signedParts = timestamp === undefined ? 'the request body' : `header ${format.timestampHeader} and the request body`;
    // A sender that compresses the body may have signed the bytes before compression.
    const contentEncoding = request.headers.get('content-encoding')?.trim();
    const encodingHint =
      contentEncoding === undefined || contentEncoding === '' || contentEncoding.toLowerCase() === 'identity'
        ? ''
        : ` The body arrived with Content-Encoding ${contentEncoding}, so sign the compressed bytes, not the bytes before compression.`;
    return rejectWith({
      status: 401,
      reason: 'invalid-signature',
      title: 'Invalid signature',
      header: format.header,
      detail: `Header ${format.header} does not match ${signedParts}. Sign the exact bytes sent, with the secret agreed for this connector.${encodingHint}`,
    });
  }
  return validCredentials;
}

/** Returns the signature bytes of a header value, or undefined when the prefix, encoding or length is wrong. */
function decodeSignature(headerValue: string, format: HmacSignatureFormat): Buffer | undefined {
  if (!headerValue.startsWith(format.prefix)) {
    return undefined;
  }

  const encoded = headerValue.slice(format.prefix.length);
  const pattern = format.encoding === 'hex' ? /^[0-9a-fA-F]+$/ : /^[A-Za-z0-9+/_-]+={0,2}$/;
  if (!pattern.test(encoded)) {
    return undefined;
  }
  const signature = Buffer.from(encoded, format.encoding);
  return signature.length === digestBytes[format.algorithm] ? signature : undefined;
}

/** Returns what a partner must send, such as `Send "X-Signature: sha256=<hex HMAC-SHA256 of the raw body>".` */
function describeSignature(format: HmacSignatureFormat): string {
  const signedText = format.timestampHeader === undefined ? 'the raw body' : `"<${format.timestampHeader}>.<raw body>"`;
  const signature = `${format.header}: ${format.prefix}<${format.encoding} HMAC-${format.algorithm.toUpperCase()} of ${signedText}>`;
  if (format.timestampHeader === undefined) {
    return `Send "${signature}".`;
  }
  return `Send "${signature}" and "${format.timestampHeader}: <Unix time in seconds>".`;
}

/** Returns the signature header value for `signedText`, as a partner computes it with `key`. */
export function signHmac(key: Uint8Array, signedText: Uint8Array, format: Pick<HmacSignatureFormat, 'algorithm' | 'encoding' | 'prefix'>): string {
  return `${format.prefix}${crypto.createHmac(format.algorithm, key).update(signedText).digest(format.encoding)}`;
}
