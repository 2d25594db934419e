import * as df from 'durable-functions';
import { requireConnector } from '../lib/config/requireConnector';
import type { PayloadReference, ReadEntityVersionOutput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { readEntityVersionActivityName } from '../lib/functionNames';
import { readDecodedPayload } from '../lib/encoding/readDecodedPayload';
import { parseJsonPayload } from '../lib/payloads';
import { extractEntity } from '../lib/transform/extractEntity';

/**
 * Reads the entity type, key and version of a message from its raw payload, stores them
 * with the message and audits the step `entityRead`. Throws a PermanentError when the key
 * or a configured version is missing from the payload.
 */
export async function readEntityVersion(
  input: PayloadReference,
  dependencies: Dependencies = getDependencies(),
): Promise<ReadEntityVersionOutput> {
  const connector = requireConnector(dependencies.connectors, input.connectorId);
  const payload = await readDecodedPayload(dependencies.payloadStore, input.rawBlobName, input.messageId, connector.inbound.maxDecodedBytes);

  const entity = await extractEntity(connector, parseJsonPayload(payload.decodedBytes, input.rawBlobName), input.messageId);
  if (entity === undefined) {
    return {};
  }

  dependencies.trackingStore.setMessageEntity(input.messageId, entity);
  dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at: dependencies.clock().toISOString(),
    step: 'entityRead',
    detail: { entityType: entity.type, entityKey: entity.key, version: entity.version ?? null },
  });
  return { entity };
}

df.app.activity(readEntityVersionActivityName, {
  handler: (input: unknown) => readEntityVersion(input as PayloadReference),
});
