import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type {
  DeliverToDestinationInput,
  DeliveryPlan,
  DestinationDelivery,
  MirrorEntityStateInput,
  OfferVersionInput,
  OfferVersionResult,
  PayloadReference,
  ProcessingStage,
  ProcessMessageInput,
  ProcessMessageOutput,
  ReadEntityVersionOutput,
  TransformPayloadOutput,
  WriteAuditInput,
} from '../lib/contracts';
import {
  deliverToDestinationOrchestrationName,
  mirrorEntityStateActivityName,
  offerVersionOperationName,
  processMessageOrchestrationName,
  readEntityVersionActivityName,
  recordMessageActivityName,
  trackedEntityName,
  transformPayloadActivityName,
  writeAuditActivityName,
} from '../lib/functionNames';
import { createDeliveryInstanceId, createTrackedEntityKey } from '../lib/ids';
import { describeTaskFailure } from '../lib/taskFailure';
import type { EntityVersion } from '../lib/transform/compareVersions';
import type { EntityReference } from '../lib/transform/extractEntity';
import type { MirrorResult } from '../lib/tracking/types';

/**
 * Processes one inbound message. It audits the message, offers its version to the tracked
 * entity, which accepts only a version newer than the last accepted one, transforms the
 * payload, mirrors the entity state and delivers to every destination in parallel.
 * Payloads travel as payload store names. A stale version is audited and not delivered.
 * The orchestration fails with an error naming each failed destination and its last failure.
 */
const processMessage: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ProcessMessageInput>();
  try {
    return yield* runSteps(context, input);
  } catch (error) {
    const failure = describeTaskFailure(error);
    setStage(context, 'failed');
    yield auditTask(context, input.messageId, 'failed', { error: failure });
    throw new Error(failure);
  }
};

function* runSteps(context: OrchestrationContext, input: ProcessMessageInput): Generator<Task, ProcessMessageOutput, unknown> {
  const payloadReference: PayloadReference = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    rawBlobName: input.rawBlobName,
  };

  setStage(context, 'recording');
  const plan = (yield context.df.callActivity(recordMessageActivityName, input)) as DeliveryPlan;

  let entity: EntityReference | undefined;
  let trackedEntityKey: string | undefined;
  if (plan.hasEntity) {
    setStage(context, 'readingEntity');
    const read = (yield context.df.callActivity(readEntityVersionActivityName, payloadReference)) as ReadEntityVersionOutput;
    entity = read.entity;
    trackedEntityKey = read.trackedEntityKey;
  }

  if (entity?.version !== undefined) {
    setStage(context, 'offeringVersion');
    const entityKey = trackedEntityKey ?? createTrackedEntityKey(input.connectorId, entity.type, entity.key);
    const offer = yield* offerVersion(context, input, entity, entity.version, entityKey);
    if (!offer.accepted) {
      setStage(context, 'stale');
      return { outcome: 'stale', messageId: input.messageId, entity, previousVersion: offer.previousVersion };
    }
  }

  setStage(context, 'transforming');
  const transformed = (yield context.df.callActivity(transformPayloadActivityName, payloadReference)) as TransformPayloadOutput;

  let changeVersion: number | undefined;
  if (entity !== undefined) {
    setStage(context, 'mirroringEntityState');
    const mirrorInput: MirrorEntityStateInput = { messageId: input.messageId, connectorId: input.connectorId, entity };
    const mirror = (yield context.df.callActivity(mirrorEntityStateActivityName, mirrorInput)) as MirrorResult;
    changeVersion = mirror.changeVersion;
  }

  setStage(context, 'delivering');
  const deliveries = yield* deliverToAllDestinations(context, input, plan, transformed.payloadBlobName);

  yield auditTask(context, input.messageId, 'completed', { outcome: 'delivered' });
  setStage(context, 'delivered');
  return { outcome: 'delivered', messageId: input.messageId, entity, changeVersion, destinations: deliveries };
}

/** Offers the entity version to the tracked entity and audits the step `versionAccepted` or `stale`. */
function* offerVersion(
  context: OrchestrationContext,
  input: ProcessMessageInput,
  entity: EntityReference,
  version: EntityVersion,
  trackedEntityKey: string,
): Generator<Task, OfferVersionResult, unknown> {
  const entityId = new df.EntityId(trackedEntityName, trackedEntityKey);
  const offer: OfferVersionInput = { version, messageId: input.messageId, offeredAt: context.df.currentUtcDateTime.toISOString() };
  const result = (yield context.df.callEntity(entityId, offerVersionOperationName, offer)) as OfferVersionResult;

  const step = result.accepted ? 'versionAccepted' : 'stale';
  yield auditTask(context, input.messageId, step, { entity, previousVersion: result.previousVersion ?? null });
  return result;
}

/**
 * Starts one `deliverToDestination` sub-orchestration per destination and waits for all of
 * them, even after one has failed, so that every destination's outcome is audited. Returns the
 * deliveries, or throws an error naming each failed destination.
 */
function* deliverToAllDestinations(
  context: OrchestrationContext,
  input: ProcessMessageInput,
  plan: DeliveryPlan,
  payloadBlobName: string,
): Generator<Task, DestinationDelivery[], unknown> {
  const deliveries = plan.destinations.map((destination) => {
    const deliveryInput: DeliverToDestinationInput = {
      messageId: input.messageId,
      connectorId: input.connectorId,
      destinationId: destination.destinationId,
      payloadBlobName,
      retry: destination.retry,
    };
    const instanceId = createDeliveryInstanceId(input.messageId, destination.destinationId);
    return { destinationId: destination.destinationId, task: context.df.callSubOrchestrator(deliverToDestinationOrchestrationName, deliveryInput, instanceId) };
  });

  try {
    yield context.df.Task.all(deliveries.map((delivery) => delivery.task));
  } catch {
    // Task.all fails as soon as one delivery fails. The loop below waits for the others.
  }
  for (const delivery of deliveries) {
    if (!delivery.task.isCompleted && !delivery.task.isFaulted) {
      try {
        yield delivery.task;
      } catch {
        // The failure is read from the task below.
      }
    }
  }

  const failures: string[] = [];
  const succeeded: DestinationDelivery[] = [];
  for (const delivery of deliveries) {
    if (delivery.task.isFaulted) {
      const failure = describeTaskFailure(delivery.task.result);
      failures.push(failure);
      yield auditTask(context, input.messageId, 'deliveryFailed', { destinationId: delivery.destinationId, error: failure }, delivery.destinationId);
    } else {
      const result = delivery.task.result as DestinationDelivery;
      succeeded.push(result);
      yield auditTask(context, input.messageId, 'delivered', { ...result }, delivery.destinationId);
    }
  }

  if (failures.length > 0) {
    throw new Error(
      `Message ${input.messageId} was not delivered to ${failures.length} of ${deliveries.length} destinations. ${failures.join(' ')}`,
    );
  }
  return succeeded;
}

function auditTask(context: OrchestrationContext, messageId: string, step: string, detail: Record<string, unknown>, key?: string): Task {
  const auditInput: WriteAuditInput = { messageId, step, key, detail };
  return context.df.callActivity(writeAuditActivityName, auditInput);
}

function setStage(context: OrchestrationContext, stage: ProcessingStage): void {
  context.df.setCustomStatus({ stage });
}

df.app.orchestration(processMessageOrchestrationName, processMessage);
