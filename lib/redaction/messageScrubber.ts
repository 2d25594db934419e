import type { Connector } from '../config/types';
import type { Dependencies } from '../dependencies';
import { readDecodedPayload } from '../encoding/readDecodedPayload';
import { isJsonContentType } from '../encoding/mediaType';
import { errorMessageOf } from '../errors';
import { parseJsonPayload } from '../payloads';
import { createPayloadScrubber, identityPayloadScrubber, type PayloadScrubber } from './redactPayload';

/**
 * Creates the scrubber of a stored message from the values at its connector's `redact` pointers.
 * Returns a scrubber that changes nothing when the connector redacts nothing or the payload is
 * not JSON. When the payload cannot be read or parsed, it logs a warning and returns that
 * scrubber too, rather than failing the step that writes the audit entry or status.
 */
export async function createMessageScrubber(
  connector: Connector,
  rawBlobName: string | undefined,
  messageId: string,
  dependencies: Dependencies,
): Promise<PayloadScrubber> {
  const pointers = connector.redact ?? [];
  if (pointers.length === 0 || rawBlobName === undefined) {
    return identityPayloadScrubber;
  }

  try {
    const payload = await readDecodedPayload(dependencies.payloadStore, rawBlobName, messageId, connector.inbound.maxDecodedBytes);
    if (!isJsonContentType(payload.stored.contentType)) {
      return identityPayloadScrubber;
    }
    return createPayloadScrubber(parseJsonPayload(payload.decodedBytes, rawBlobName), pointers);
  } catch (error) {
    dependencies.logger.warn(
      { messageId, connectorId: connector.id, rawBlobName, error: errorMessageOf(error) },
      'payload could not be read to redact values, so text about this message is not redacted',
    );
    return identityPayloadScrubber;
  }
}

/** Replaces the message and stack of `error` with scrubbed text and returns it, keeping its class. */
export function scrubError(error: unknown, scrubber: PayloadScrubber): unknown {
  if (error instanceof Error && scrubber !== identityPayloadScrubber) {
    error.message = scrubber.scrub(error.message);
    if (error.stack !== undefined) {
      error.stack = scrubber.scrub(error.stack);
    }
  }
  return error;
}
