import * as df from 'durable-functions';
import type { RecordMessageOutcomeInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import type { LifecycleEventType } from '../lib/events/lifecycleEvent';
import { recordMessageOutcomeActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/** Lifecycle event of each message outcome. A dead letter's events are published per destination by `recordDelivery`. */
const eventTypeByOutcome: Partial<Record<RecordMessageOutcomeInput['outcome'], LifecycleEventType>> = {
  delivered: 'message.delivered',
  stale: 'message.stale',
};

/**
 * Stores the final outcome of a message and its reason, audits it as `completed` (delivered or
 * filtered) or `failed` (dead-lettered), and publishes `message.delivered` or `message.stale`.
 * A stale message is already audited by its `stale` step.
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

df.app.activity(recordMessageOutcomeActivityName, {
  handler: withScrubbedErrors((input: unknown) => recordMessageOutcome(input as RecordMessageOutcomeInput)),
});
