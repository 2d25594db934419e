import { PermanentError } from '../errors';
import { readRequiredPayload } from '../payloads';
import type { PayloadStore, StoredPayload } from '../payloadStore/PayloadStore';
import { decodeContentEncoding, isSupportedContentEncoding } from './contentEncoding';

/** A stored payload with its bytes decoded from the content coding they were stored with. */
export interface DecodedPayload {
  stored: StoredPayload;
  /** The stored bytes when they are not encoded. */
  decodedBytes: Buffer;
}

/**
 * Reads a payload that must exist and decodes its gzip, deflate or br bytes, keeping at most
 * `maxDecodedBytes`. Throws a PermanentError when the payload is missing, its coding is not
 * supported, its data is invalid or it decodes to more than the limit.
 */
export async function readDecodedPayload(payloadStore: PayloadStore, name: string, messageId: string, maxDecodedBytes: number): Promise<DecodedPayload> {
  const stored = await readRequiredPayload(payloadStore, name, messageId);
  const encoding = stored.contentEncoding;
  if (encoding === undefined) {
    return { stored, decodedBytes: stored.bytes };
  }
  if (!isSupportedContentEncoding(encoding)) {
    throw new PermanentError(`Payload ${name} of message ${messageId} is stored with content encoding "${encoding}", which cannot be decoded.`);
  }

  const decoded = await decodeContentEncoding(stored.bytes, encoding, maxDecodedBytes);
  if (decoded.status === 'tooLarge') {
    throw new PermanentError(
      `Payload ${name} of message ${messageId} decodes to more than ${maxDecodedBytes} bytes. ` +
        'Raise inbound.maxDecodedBytes of its connector if payloads of this size are expected, then rewind the message.',
    );
  }
  if (decoded.status === 'invalid') {
    throw new PermanentError(`Payload ${name} of message ${messageId} is not valid ${encoding} data: ${decoded.message}.`);
  }
  return { stored, decodedBytes: decoded.bytes };
}
