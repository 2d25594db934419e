import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { RetryPolicy } from '../lib/config/types';
import type { DeliverPayloadInput, DeliverPayloadOutput, DeliverToDestinationInput, DestinationDelivery } from '../lib/contracts';
import { deliverPayloadActivityName, deliverToDestinationOrchestrationName } from '../lib/functionNames';
import { createDeliveryInstanceId } from '../lib/ids';
import { describeTaskFailure, isPermanentFailure } from '../lib/taskFailure';

/**
 * Returns the wait in ms after failed attempt `attemptNumber` (1-based):
 * `firstIntervalInMilliseconds * backoffCoefficient^(attemptNumber - 1)`, capped at
 * `maxIntervalInMilliseconds`.
 */
export function retryDelayInMilliseconds(retry: RetryPolicy, attemptNumber: number): number {
  const delay = retry.firstIntervalInMilliseconds * Math.pow(retry.backoffCoefficient, attemptNumber - 1);
  return Math.min(delay, retry.maxIntervalInMilliseconds);
}

/**
 * Delivers one message to one destination. Each attempt is one `deliverPayload`
 * activity with the same idempotency key, and the waits between attempts are durable
 * timers, so the schedule survives restarts. A permanent failure ends the retries at once.
 * Throws an error naming the destination and the last failure when no attempt succeeds.
 */
const deliverToDestination: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<DeliverToDestinationInput>();
  const { retry } = input;
  const idempotencyKey = createDeliveryInstanceId(input.messageId, input.destinationId);

  let lastFailure = 'no attempt was made';
  for (let attemptNumber = 1; attemptNumber <= retry.maxAttempts; attemptNumber++) {
    context.df.setCustomStatus({ stage: 'delivering', attemptNumber });
    const attemptInput: DeliverPayloadInput = {
      messageId: input.messageId,
      connectorId: input.connectorId,
      destinationId: input.destinationId,
      payloadBlobName: input.payloadBlobName,
      attemptNumber,
      maxAttempts: retry.maxAttempts,
      idempotencyKey,
    };

    try {
      const output = (yield context.df.callActivity(deliverPayloadActivityName, attemptInput)) as DeliverPayloadOutput;
      context.df.setCustomStatus({ stage: 'delivered', attemptNumber });
      const delivery: DestinationDelivery = { destinationId: input.destinationId, attempts: attemptNumber, statusCode: output.statusCode };
      return delivery;
    } catch (error) {
      lastFailure = describeTaskFailure(error);
      if (isPermanentFailure(error)) {
        context.df.setCustomStatus({ stage: 'failed', attemptNumber });
        throw new Error(
          `Delivery to destination ${input.destinationId} stopped after attempt ${attemptNumber} of ${retry.maxAttempts} ` +
            `because the failure is permanent. Last failure: ${lastFailure}`,
        );
      }
    }

    if (attemptNumber < retry.maxAttempts) {
      const nextAttemptAt = new Date(context.df.currentUtcDateTime.getTime() + retryDelayInMilliseconds(retry, attemptNumber));
      context.df.setCustomStatus({ stage: 'waitingToRetry', attemptNumber, nextAttemptAt: nextAttemptAt.toISOString() });
      yield context.df.createTimer(nextAttemptAt);
    }
  }

  context.df.setCustomStatus({ stage: 'failed', attemptNumber: retry.maxAttempts });
  throw new Error(`Delivery to destination ${input.destinationId} failed after ${retry.maxAttempts} attempts. Last failure: ${lastFailure}`);
};

df.app.orchestration(deliverToDestinationOrchestrationName, deliverToDestination);
