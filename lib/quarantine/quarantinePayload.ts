import type { SchemaError } from '../config/payloadSchema';
import type { Connector } from '../config/types';
import type { Dependencies } from '../dependencies';
import type { AcceptableMessage } from '../ingest/acceptMessage';
import { digestPayload } from '../payloadStore/PayloadStore';
import { createQuarantineId, quarantineBlobNameOf } from './quarantineIds';

/**
 * Stores a payload that failed its connector's JSON Schema and returns its quarantine id. The
 * exact bytes go to the payload store under `quarantine/<connectorId>/<quarantineId>`, then a
 * row goes to the quarantine table, and the step `rejected` is audited under the quarantine id.
 * A repeat of a payload that is already quarantined only adds an audit entry. Throws when the
 * payload store fails, and then nothing is recorded.
 */
export async function quarantinePayload(
  connector: Connector,
  payload: AcceptableMessage,
  errors: SchemaError[],
  dependencies: Dependencies,
): Promise<string> {
  const { quarantineStore, payloadStore, trackingStore, logger } = dependencies;
  const digest = digestPayload(payload.bytes);
  const quarantineId = createQuarantineId(connector.id, payload.dedupKey, digest.sha256);
  const payloadBlobName = quarantineBlobNameOf(connector.id, quarantineId);
  const receivedAt = dependencies.clock().toISOString();
  const reason = describeSchemaErrors(errors);

  const repeated = (await quarantineStore.get(quarantineId)) !== undefined;
  if (!repeated) {
    // Bytes first, so that a row never names a payload that is missing from the store.
    await payloadStore.put(payloadBlobName, payload.bytes, { contentType: payload.contentType, contentEncoding: payload.contentEncoding });
    await quarantineStore.insert({
      quarantineId,
      connectorId: connector.id,
      receivedAt,
      reason,
      errors,
      payloadBlobName,
      ...digest,
      contentType: payload.contentType,
      contentEncoding: payload.contentEncoding,
      dedupKey: payload.dedupKey,
    });
  }

  await trackingStore.appendAudit({
    messageId: quarantineId,
    at: receivedAt,
    step: 'rejected',
    key: receivedAt,
    detail: { connectorId: connector.id, reason, errorCount: errors.length, repeated },
  });
  logger.warn({ connectorId: connector.id, quarantineId, errorCount: errors.length, repeated }, 'payload failed the schema and was quarantined');
  return quarantineId;
}

/** Returns a one-line reason that names the first schema error and the number of others. */
export function describeSchemaErrors(errors: SchemaError[]): string {
  if (errors.length === 0) {
    return 'the payload does not match the JSON Schema';
  }
  const [first] = errors;
  const location = first.pointer === '' ? 'the payload' : first.pointer;
  const others = errors.length === 1 ? '' : ` (and ${errors.length - 1} more errors)`;
  return `the payload does not match the JSON Schema: ${location} ${first.message}${others}`;
}
