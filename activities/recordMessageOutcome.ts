import * as df from 'durable-functions';
import type { RecordMessageOutcomeInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import type { LifecycleEventType } from '../lib/events/lifecycleEvent';
import { recordMessageOutcomeActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Lifecycle event of each message outcome. The events of dead-lettered deliveries are published
 * per destination when the delivery is recorded.
 */
const eventTypeByOutcome: Partial<Record<RecordMessageOutcomeInput['outcome'], LifecycleEventType>> = {
  delivered: 'message.delivered',
  stale: 'message.stale',
};

/**
 * Stores the final outcome of a message and its reason, audits it as `completed` (delivered or
 * filtered) or `failed` (dead-lettered), and publishes `message.delivered` or `message.stale`.
 * A stale message is already audited by its `stale` step. A message dead-lettered without
 * destination results failed before any delivery, such as when its entity key is missing, so
 * it logs a warning and publishes one `message.deadlettered` with no destination id.
 */
export async function recordMessageOutcome(input: RecordMessageOutcomeInput, dependencies: Dependencies = getDependencies()): Promise<void> {
  const at = dependencies.clock().toISOString();
  await dependencies.trackingStore.setMessageOutcome(input.messageId, input.outcome, input.reason, at);

  let added = true;
  if (input.outcome === 'delivered' || input.outcome === 'filtered') {
    added = await dependencies.trackingStore.appendAudit({ messageId: input.messageId, at, step: 'completed', detail: { outcome: input.outcome } });
  } else if (input.outcome === 'deadLettered') {
    added = await dependencies.trackingStore.appendAudit({
      messageId: input.messageId,
      at,
      step: 'failed',
      detail: { outcome: input.outcome, error: input.reason ?? null },
    });
  }

  if (input.outcome === 'deadLettered' && input.destinations === undefined) {
    await publishMessageDeadLetter(input, at, added, dependencies);
    return;
  }

  const eventType = eventTypeByOutcome[input.outcome];
  if (eventType !== undefined && added) {
    const destinations = (input.destinations ?? []).map(({ destinationId, outcome, attempts }) => ({ destinationId, outcome, attempts }));
    await dependencies.eventPublisher.publish({
      type: eventType,
      messageId: input.messageId,
      connectorId: input.connectorId,
      time: at,
      data: { reason: input.reason ?? null, destinations },
    });
  }
}

async function publishMessageDeadLetter(input: RecordMessageOutcomeInput, at: string, added: boolean, dependencies: Dependencies): Promise<void> {
  dependencies.logger.warn({ messageId: input.messageId, connectorId: input.connectorId, reason: input.reason }, 'message dead-lettered');
  if (!added) {
    return;
  }
  await dependencies.eventPublisher.publish({
    type: 'message.deadlettered',
    messageId: input.messageId,
    connectorId: input.connectorId,
    time: at,
    data: { destinationId: null, reason: input.reason ?? null, attempts: 0, statusCode: null },
  });
}

df.app.activity(recordMessageOutcomeActivityName, {
  handler: withScrubbedErrors((input: unknown) => recordMessageOutcome(input as RecordMessageOutcomeInput)),
});
