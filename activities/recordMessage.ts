import * as df from 'durable-functions';
import { requireConnector } from '../lib/config/requireConnector';
import type { Connector, DestinationConfig } from '../lib/config/types';
import type { DeliveryPlan, DestinationPlan, ProcessMessageInput, TransformPayloadInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { PermanentError } from '../lib/errors';
import { recordMessageActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';
import { prepareDestinationPayloads } from '../lib/transform/prepareDestinationPayloads';

/**
 * Time a probe attempt keeps the half-open breaker beyond the destination's attempt timeout, for
 * the activity to be scheduled and to report. A probe that reports nothing in that time, because
 * its host crashed, loses its turn to the next delivery that requests an attempt.
 */
const probeLeaseMarginInMilliseconds = 30_000;

/**
 * Audits that processing of a message started (step `received`), stores the connector's
 * configuration version, publishes `message.received` and returns the delivery plan from the
 * connectors file. Reading the plan here keeps the file out of the orchestrator, which must not
 * do I/O. A replay gets only the destinations it names.
 *
 * For a connector without an entity and without a Data Factory transform, it also prepares each
 * destination's payload as `transformPayload` does and returns them as `preparedPayloads`, which
 * saves processMessage an activity. A connector with an entity must not prepare payloads here,
 * because the tracked entity has not yet accepted the message's version, and a stale version
 * must not be transformed. A Data Factory transform runs between this activity and the
 * preparation.
 */
export async function recordMessage(input: ProcessMessageInput, dependencies: Dependencies = getDependencies()): Promise<DeliveryPlan> {
  const connector = requireConnector(dependencies.connectors, input.connectorId);
  const destinations = chooseDestinations(connector, input);
  const at = dependencies.clock().toISOString();

  await dependencies.trackingStore.setConfigurationVersion(input.messageId, connector.configurationVersion);
  const added = await dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at,
    step: 'received',
    detail: {
      connectorId: input.connectorId,
      receivedAt: input.receivedAt,
      rawBlobName: input.rawBlobName,
      contentType: input.contentType,
      contentEncoding: input.contentEncoding ?? null,
      sizeInBytes: input.sizeInBytes,
      sha256: input.sha256,
      configurationVersion: connector.configurationVersion,
      replayOf: input.replay?.originalMessageId ?? null,
    },
  });
  if (added) {
    await dependencies.eventPublisher.publish({
      type: 'message.received',
      messageId: input.messageId,
      connectorId: input.connectorId,
      time: at,
      data: { receivedAt: input.receivedAt, configurationVersion: connector.configurationVersion, replayOf: input.replay?.originalMessageId ?? null },
    });
  }

  const plan: DeliveryPlan = { destinations: destinations.map(toDestinationPlan), hasEntity: connector.entity !== undefined };
  if (connector.transform?.type === 'adf') {
    const { pipelineName, timeoutInMinutes, pollIntervalInSeconds } = connector.transform;
    plan.dataFactoryTransform = { pipelineName, timeoutInMinutes, pollIntervalInSeconds };
  }
  if (!plan.hasEntity && plan.dataFactoryTransform === undefined) {
    const preparation: TransformPayloadInput = {
      messageId: input.messageId,
      connectorId: input.connectorId,
      rawBlobName: input.rawBlobName,
      destinationIds: plan.destinations.map((destination) => destination.destinationId),
      replay: input.replay,
    };
    plan.preparedPayloads = (await prepareDestinationPayloads(preparation, dependencies)).destinations;
  }
  return plan;
}

/** Returns the connector's destinations, or for a replay the ones it names. Throws for a name the connector does not have. */
function chooseDestinations(connector: Connector, input: ProcessMessageInput): DestinationConfig[] {
  const chosenIds = input.replay?.destinationIds;
  if (chosenIds === undefined) {
    return connector.destinations;
  }

  const knownIds = connector.destinations.map((destination) => destination.id);
  const unknownIds = chosenIds.filter((destinationId) => !knownIds.includes(destinationId));
  if (unknownIds.length > 0) {
    throw new PermanentError(
      `Replay ${input.messageId} names destinations ${unknownIds.join(', ')} that connector ${connector.id} does not have. ` +
        `Its destinations are ${knownIds.join(', ')}; replay the message again with those.`,
    );
  }
  return connector.destinations.filter((destination) => chosenIds.includes(destination.id));
}

function toDestinationPlan(destination: DestinationConfig): DestinationPlan {
  return {
    destinationId: destination.id,
    retry: destination.retry,
    circuit: {
      failureThreshold: destination.circuitBreaker.failureThreshold,
      coolDownInMilliseconds: destination.circuitBreaker.coolDownInMilliseconds,
      probeLeaseInMilliseconds: destination.timeoutInMilliseconds + probeLeaseMarginInMilliseconds,
    },
    ordering: destination.ordering,
  };
}

df.app.activity(recordMessageActivityName, {
  handler: withScrubbedErrors((input: unknown) => recordMessage(input as ProcessMessageInput)),
});
