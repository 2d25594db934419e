import * as df from 'durable-functions';
import type { EntityContext } from 'durable-functions';
import type { OfferVersionInput, OfferVersionResult, TrackedEntityState } from '../lib/contracts';
import { PermanentError } from '../lib/errors';
import { deliveryQueueEntityName, enqueueOperationName, offerVersionOperationName, trackedEntityName } from '../lib/functionNames';
import { compareVersions } from '../lib/transform/compareVersions';

/**
 * Decides whether an offered version is newer than the last accepted one and returns the
 * decision with the state to keep. An equal version is stale, except when the same
 * message offers it again, which happens when that message is processed again.
 */
export function decideVersionOffer(
  state: TrackedEntityState | undefined,
  offer: OfferVersionInput,
  offeredAt: string,
): { result: OfferVersionResult; state: TrackedEntityState | undefined } {
  if (state === undefined) {
    return { result: { accepted: true }, state: { version: offer.version, messageId: offer.messageId, updatedAt: offeredAt } };
  }

  const comparison = compareVersions(offer.version, state.version);
  const isSameOffer = comparison === 0 && offer.messageId === state.messageId;
  if (comparison > 0 || isSameOffer) {
    return {
      result: { accepted: true, previousVersion: state.version },
      state: { version: offer.version, messageId: offer.messageId, updatedAt: offeredAt },
    };
  }
  return { result: { accepted: false, previousVersion: state.version }, state };
}

/**
 * Handles the operations of the tracked entity of one business entity, keyed
 * `<connectorId>|<entityType>|<entityKey>`. Its state is the newest accepted version.
 * An entity runs one operation at a time, so two messages about the same business entity
 * cannot both be accepted as the newest. An accepted offer also enqueues the message in the
 * delivery queues it names, in the order of acceptance.
 */
function trackedEntity(context: EntityContext<TrackedEntityState>): void {
  const operationName = context.df.operationName;
  if (operationName !== offerVersionOperationName) {
    throw new PermanentError(
      `Entity ${trackedEntityName} has no operation "${operationName}". The only operation is "${offerVersionOperationName}".`,
    );
  }

  const offer = context.df.getInput<OfferVersionInput>();
  if (offer === undefined || (typeof offer.version !== 'string' && typeof offer.version !== 'number')) {
    throw new PermanentError(
      `Operation ${offerVersionOperationName} of entity ${context.df.entityKey} needs an input with a string or number "version" and a "messageId".`,
    );
  }

  // Entity operations are not replayed, so the wall clock is safe here when the caller sends no time.
  const offeredAt = offer.offeredAt ?? new Date().toISOString();
  const decision = decideVersionOffer(context.df.getState(), offer, offeredAt);
  if (decision.state !== undefined) {
    context.df.setState(decision.state);
  }
  if (decision.result.accepted) {
    for (const reservation of offer.reserveQueues ?? []) {
      context.df.signalEntity(new df.EntityId(deliveryQueueEntityName, reservation.queueKey), enqueueOperationName, reservation.item);
    }
  }
  context.df.return(decision.result);
}

df.app.entity(trackedEntityName, trackedEntity);
