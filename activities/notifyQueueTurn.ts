import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import type { NotifyQueueTurnInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { errorMessageOf } from '../lib/errors';
import { notifyQueueTurnActivityName, queueTurnEventName } from '../lib/functionNames';

/** The part of the Durable Functions client that the activity uses. */
export interface EventRaiser {
  raiseEvent(instanceId: string, eventName: string, eventData: unknown): Promise<void>;
}

/**
 * Raises the `queueTurn` event to the delivery that became the head of a delivery queue, so that
 * it stops waiting at once. A failure is logged and not raised: the waiting delivery also checks
 * the queue again on a timer, for example when it had not started yet when the event was raised.
 */
export async function notifyQueueTurn(input: NotifyQueueTurnInput, client: EventRaiser, dependencies: Dependencies = getDependencies()): Promise<void> {
  try {
    await client.raiseEvent(input.instanceId, queueTurnEventName, { queueKey: input.queueKey });
  } catch (error) {
    dependencies.logger.warn(
      { messageId: input.messageId, instanceId: input.instanceId, queueKey: input.queueKey, error: errorMessageOf(error) },
      'queue turn event not raised; the delivery finds its turn on its next check',
    );
  }
}

df.app.activity(notifyQueueTurnActivityName, {
  extraInputs: [df.input.durableClient()],
  handler: (input: unknown, context: InvocationContext) => notifyQueueTurn(input as NotifyQueueTurnInput, df.getClient(context)),
});
