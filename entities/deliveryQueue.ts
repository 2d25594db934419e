import * as df from 'durable-functions';
import type { EntityContext } from 'durable-functions';
import type { DeliveryQueueState, QueueItem } from '../lib/contracts';
import { PermanentError } from '../lib/errors';
import { deliveryQueueEntityName, enqueueOperationName, releaseOperationName } from '../lib/functionNames';
import { emptyDeliveryQueue, enqueueItem, releaseItem } from '../lib/ordering/deliveryQueue';

/**
 * Handles the operations of the delivery queue of one destination and tracked entity, keyed
 * `<destinationId>|<trackedEntityKey>`. `enqueue` adds a delivery or returns whether it is the
 * head, and `release` removes it and returns the next head. The decisions are in
 * lib/ordering/deliveryQueue.ts.
 */
function deliveryQueue(context: EntityContext<DeliveryQueueState>): void {
  const operationName = context.df.operationName ?? '';
  const state = context.df.getState(() => emptyDeliveryQueue) ?? emptyDeliveryQueue;
  const item = context.df.getInput<QueueItem>();
  if (typeof item !== 'object' || item === null || typeof item.instanceId !== 'string' || typeof item.messageId !== 'string') {
    throw new PermanentError(
      `Operation "${operationName}" of entity ${deliveryQueueEntityName} ${context.df.entityKey} needs an input object with "messageId" and "instanceId".`,
    );
  }

  if (operationName === enqueueOperationName) {
    const result = enqueueItem(state, item);
    context.df.setState(result.state);
    context.df.return(result.position);
    return;
  }
  if (operationName === releaseOperationName) {
    const result = releaseItem(state, item.instanceId);
    if (result.state.head === undefined && result.state.waiting.length === 0) {
      // An entity exists per destination and entity key, so an empty queue deletes its state.
      context.df.destructOnExit();
    } else {
      context.df.setState(result.state);
    }
    context.df.return(result.release);
    return;
  }
  throw new PermanentError(
    `Entity ${deliveryQueueEntityName} has no operation "${operationName}". Its operations are ${enqueueOperationName} and ${releaseOperationName}.`,
  );
}

df.app.entity(deliveryQueueEntityName, deliveryQueue);
