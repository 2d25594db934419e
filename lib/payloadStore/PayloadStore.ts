import { createHash } from 'node:crypto';

import { PermanentError } from '../errors';

/** A payload as read back from the store, with the headers it was written with. */
export interface StoredPayload {
  bytes: Buffer;
  contentType: string;
  contentEncoding?: string;
  sizeInBytes: number;
  /** SHA-256 of `bytes`, lowercase hex. */
  sha256: string;
}

/** Headers stored with a payload and returned by `get`. */
export interface PayloadHeaders {
  contentType: string;
  /** Encoding of the stored bytes, such as "gzip". The store never decodes them. */
  contentEncoding?: string;
}

/** Size and SHA-256 (lowercase hex) of the bytes that `put` wrote. */
export interface PayloadDigest {
  sizeInBytes: number;
  sha256: string;
}

/**
 * Claim-check storage for raw and transformed payloads. Messages and orchestrations carry a
 * payload's name, and the bytes stay here.
 *
 * Names are relative paths such as "raw/orders/<messageId>" (see `validatePayloadName`).
 * Every method rejects an invalid name with `InvalidPayloadNameError` before any I/O. Other
 * failures are a `RetryableError` (such as a timeout or a full disk) or a `PermanentError` (such
 * as a denied permission or a corrupt payload), with the underlying error as `cause`.
 */
export interface PayloadStore {
  /**
   * Writes `bytes` under `name`, replacing any payload stored there, and returns their size and
   * SHA-256. When the promise resolves, the payload is durable, so a crash after that does not lose it.
   */
  put(name: string, bytes: Buffer, headers: PayloadHeaders): Promise<PayloadDigest>;

  /** Reads the payload stored under `name`. Returns undefined when there is none. */
  get(name: string): Promise<StoredPayload | undefined>;

  exists(name: string): Promise<boolean>;

  /** Deletes the payload stored under `name`. Returns whether there was one. */
  delete(name: string): Promise<boolean>;
}

/** Maximum length of a payload name in UTF-16 code units. Azure Blob Storage allows 1,024 characters. */
export const maxPayloadNameLength = 1024;

/** Maximum number of "/"-separated segments in a payload name, the limit Azure Blob Storage sets. */
export const maxPayloadNameSegments = 254;

/** Error for a payload name that breaks a rule of `validatePayloadName`. The message names the rule. */
export class InvalidPayloadNameError extends PermanentError {
  override name = 'InvalidPayloadNameError';
  readonly payloadName: unknown;

  constructor(payloadName: unknown, rule: string) {
    super(`Invalid payload name ${describeName(payloadName)}: ${rule}`);
    this.payloadName = payloadName;
  }
}

// Matches C0 and C1 control characters and unpaired surrogates. An unpaired surrogate has no UTF-8
// encoding, and Node encodes it as U+FFFD, so two names that differ only there would collide.
const controlCharacterOrLoneSurrogate = /[\u0000-\u001f\u007f-\u009f]|\p{Surrogate}/u;

/**
 * Throws `InvalidPayloadNameError` unless `name` is a valid payload name.
 *
 * A valid name is 1 to 1,024 characters of "/"-separated segments, at most 254 of them. Segments
 * are not empty, so the name does not start or end with "/", and are not "." or "..", which URL
 * normalisation would remove from a blob URL. The name contains no backslash and no control
 * character. Letter case is significant.
 */
export function validatePayloadName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidPayloadNameError(name, 'it must be a non-empty string such as "raw/orders/<messageId>".');
  }
  if (name.length > maxPayloadNameLength) {
    throw new InvalidPayloadNameError(name, `it has ${name.length} characters and the maximum is ${maxPayloadNameLength}. Use a shorter message id or connector id.`);
  }
  if (name.includes('\\')) {
    throw new InvalidPayloadNameError(name, 'it must not contain a backslash. Separate segments with "/".');
  }
  if (name.startsWith('/')) {
    throw new InvalidPayloadNameError(name, 'it must not start with "/". Names are relative, such as "raw/orders/<messageId>".');
  }
  if (controlCharacterOrLoneSurrogate.test(name)) {
    throw new InvalidPayloadNameError(name, 'it must not contain control characters or unpaired surrogates.');
  }

  const segments = name.split('/');
  if (segments.length > maxPayloadNameSegments) {
    throw new InvalidPayloadNameError(name, `it has ${segments.length} segments and the maximum is ${maxPayloadNameSegments}.`);
  }
  if (segments.includes('')) {
    throw new InvalidPayloadNameError(name, 'it must not contain an empty segment ("//" or a trailing "/").');
  }
  if (segments.includes('.') || segments.includes('..')) {
    throw new InvalidPayloadNameError(name, 'it must not contain "." or ".." segments.');
  }
}

/**
 * Throws a PermanentError unless the content type, and the content encoding if given, are
 * non-blank printable ASCII. The Azure adapter sends both as HTTP headers.
 */
export function validatePayloadHeaders(headers: PayloadHeaders): void {
  if (!isHeaderValue(headers.contentType)) {
    throw new PermanentError(`Invalid content type ${JSON.stringify(headers.contentType)}: expected a non-empty header value such as "application/json".`);
  }
  if (headers.contentEncoding !== undefined && !isHeaderValue(headers.contentEncoding)) {
    throw new PermanentError(`Invalid content encoding ${JSON.stringify(headers.contentEncoding)}: expected a non-empty header value such as "gzip", or no content encoding.`);
  }
}

/** Returns the size and lowercase hex SHA-256 of `bytes`. */
export function digestPayload(bytes: Buffer): PayloadDigest {
  return {
    sizeInBytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

function isHeaderValue(value: unknown): boolean {
  return typeof value === 'string' && value.trim().length > 0 && /^[\x20-\x7e]+$/.test(value);
}

// Quotes the name with JSON escapes and shortens a long one, so that an error message stays one
// readable line.
function describeName(name: unknown): string {
  if (typeof name !== 'string') {
    return `${String(name)} (a ${typeof name}, not a string)`;
  }
  const maxShownLength = 120;
  if (name.length <= maxShownLength) {
    return JSON.stringify(name);
  }
  return `${JSON.stringify(name.slice(0, maxShownLength))}... (${name.length} characters)`;
}
