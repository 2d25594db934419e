import * as df from 'durable-functions';
import { requireConnector } from '../lib/config/requireConnector';
import type { PayloadReference, ReadEntityVersionOutput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { readEntityVersionActivityName } from '../lib/functionNames';
import { createHashedTrackedEntityKey } from '../lib/ids';
import { readDecodedPayload } from '../lib/encoding/readDecodedPayload';
import { parseJsonPayload } from '../lib/payloads';
import { scrubError } from '../lib/redaction/messageScrubber';
import { createPayloadScrubber, scrubValues } from '../lib/redaction/redactPayload';
import { extractEntity, type EntityReference } from '../lib/transform/extractEntity';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Reads the entity type, key and version of a message from its raw payload, stores them
 * with the message and audits the step `entityRead`, with the connector's redacted values
 * replaced in the audit entry and in errors. Throws a PermanentError when the key
 * or a configured version is missing from the payload.
 */
export async function readEntityVersion(
  input: PayloadReference,
  dependencies: Dependencies = getDependencies(),
): Promise<ReadEntityVersionOutput> {
  const connector = requireConnector(dependencies.connectors, input.connectorId);
  const payload = await readDecodedPayload(dependencies.payloadStore, input.rawBlobName, input.messageId, connector.inbound.maxDecodedBytes);

  const parsed = parseJsonPayload(payload.decodedBytes, input.rawBlobName);
  const scrubber = createPayloadScrubber(parsed, connector.redact ?? []);
  let entity: EntityReference | undefined;
  try {
    entity = await extractEntity(connector, parsed, input.messageId);
  } catch (error) {
    throw scrubError(error, scrubber);
  }
  if (entity === undefined) {
    return {};
  }

  await dependencies.trackingStore.setMessageEntity(input.messageId, entity);
  await dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at: dependencies.clock().toISOString(),
    step: 'entityRead',
    detail: scrubValues({ entityType: entity.type, entityKey: entity.key, version: entity.version ?? null }, scrubber),
  });
  if ((connector.redact ?? []).length > 0) {
    return { entity, trackedEntityKey: createHashedTrackedEntityKey(input.connectorId, entity.type, entity.key) };
  }
  return { entity };
}

df.app.activity(readEntityVersionActivityName, {
  handler: withScrubbedErrors((input: unknown) => readEntityVersion(input as PayloadReference)),
});
