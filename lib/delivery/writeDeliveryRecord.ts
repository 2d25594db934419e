import type { RecordDeliveryInput } from '../contracts';
import type { Dependencies } from '../dependencies';

/**
 * Writes the delivery of a message to one destination. A final outcome is also audited under
 * its own step (`delivered`, `deadLettered` or `filtered`, keyed by the destination id), and a
 * dead letter publishes `message.deadlettered`. Writing the same record again adds no second audit entry or event.
 */
export async function writeDeliveryRecord(input: RecordDeliveryInput, dependencies: Dependencies): Promise<void> {
  const at = dependencies.clock().toISOString();
  await dependencies.trackingStore.upsertDelivery({
    messageId: input.messageId,
    destinationId: input.destinationId,
    payloadBlobName: input.payloadBlobName,
    outcome: input.outcome,
    reason: input.reason,
    attempts: input.attempts,
    statusCode: input.statusCode,
    updatedAt: at,
  });
  if (input.outcome === 'pending') {
    return;
  }

  const added = await dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at,
    step: input.outcome,
    key: input.destinationId,
    detail: {
      destinationId: input.destinationId,
      attempts: input.attempts,
      statusCode: input.statusCode ?? null,
      reason: input.reason ?? null,
    },
  });
  if (input.outcome !== 'deadLettered') {
    return;
  }

  const logFields = { messageId: input.messageId, connectorId: input.connectorId, destinationId: input.destinationId, attempts: input.attempts };
  dependencies.logger.warn({ ...logFields, reason: input.reason }, 'delivery dead-lettered');
  if (added) {
    await dependencies.eventPublisher.publish({
      type: 'message.deadlettered',
      messageId: input.messageId,
      connectorId: input.connectorId,
      time: at,
      data: { destinationId: input.destinationId, reason: input.reason ?? null, attempts: input.attempts, statusCode: input.statusCode ?? null },
    });
  }
}
