import * as df from 'durable-functions';
import { requireConnector } from '../lib/config/requireConnector';
import type { DeliveryPlan, ProcessMessageInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { recordMessageActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Audits that processing of a message started (step `received`) and returns its delivery
 * plan from the connectors file. Reading the plan here keeps the file out of the
 * orchestrator, which must not do I/O.
 */
export async function recordMessage(input: ProcessMessageInput, dependencies: Dependencies = getDependencies()): Promise<DeliveryPlan> {
  const connector = requireConnector(dependencies.connectors, input.connectorId);

  dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at: dependencies.clock().toISOString(),
    step: 'received',
    detail: {
      connectorId: input.connectorId,
      receivedAt: input.receivedAt,
      rawBlobName: input.rawBlobName,
      contentType: input.contentType,
      contentEncoding: input.contentEncoding ?? null,
      sizeInBytes: input.sizeInBytes,
      sha256: input.sha256,
    },
  });

  return {
    destinations: connector.destinations.map((destination) => ({ destinationId: destination.id, retry: destination.retry })),
    hasEntity: connector.entity !== undefined,
  };
}

df.app.activity(recordMessageActivityName, {
  handler: withScrubbedErrors((input: unknown) => recordMessage(input as ProcessMessageInput)),
});
