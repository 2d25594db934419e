import { parseJsonBytes } from './encoding/jsonBytes';
import { PermanentError } from './errors';
import type { PayloadStore, StoredPayload } from './payloadStore/PayloadStore';

/** Reads a payload that must exist. Throws a PermanentError naming the payload and message when it is missing. */
export async function readRequiredPayload(payloadStore: PayloadStore, name: string, messageId: string): Promise<StoredPayload> {
  const payload = await payloadStore.get(name);
  if (payload === undefined) {
    throw new PermanentError(
      `Payload ${name} of message ${messageId} is missing from the payload store. ` +
        'Check the payload store settings and retention rules; the partner must send the message again.',
    );
  }
  return payload;
}

/**
 * Parses JSON bytes that the ingest trigger validated, ignoring one leading byte order mark.
 * Throws a PermanentError when they are not valid UTF-8 JSON.
 */
export function parseJsonPayload(bytes: Uint8Array, name: string): unknown {
  try {
    return parseJsonBytes(bytes);
  } catch (error) {
    throw new PermanentError(`Payload ${name} is not valid UTF-8 JSON: ${(error as Error).message}.`, { cause: error });
  }
}
