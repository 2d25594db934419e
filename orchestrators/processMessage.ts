import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import type {
  DeliverToDestinationInput,
  DeliveryPlan,
  DestinationDelivery,
  DestinationPayload,
  DestinationPlan,
  MirrorEntityStateInput,
  NotifyQueueTurnInput,
  OfferVersionInput,
  OfferVersionResult,
  PayloadReference,
  ProcessingStage,
  ProcessMessageInput,
  ProcessMessageOutput,
  QueueItem,
  QueueRelease,
  ReadEntityVersionOutput,
  RecordDeliveryInput,
  RecordMessageOutcomeInput,
  TransformPayloadInput,
  TransformPayloadOutput,
  WriteAuditInput,
} from '../lib/contracts';
import {
  deliverToDestinationOrchestrationName,
  deliveryQueueEntityName,
  mirrorEntityStateActivityName,
  notifyQueueTurnActivityName,
  offerVersionOperationName,
  processMessageOrchestrationName,
  readEntityVersionActivityName,
  recordDeliveryActivityName,
  recordMessageActivityName,
  recordMessageOutcomeActivityName,
  releaseOperationName,
  runDataFactoryTransformOrchestrationName,
  trackedEntityName,
  transformPayloadActivityName,
  writeAuditActivityName,
} from '../lib/functionNames';
import { createDataFactoryTransformInstanceId, createDeliveryInstanceId, createDeliveryQueueKey, createTrackedEntityKey, transformedBlobNameOf } from '../lib/ids';
import { describeTaskFailure } from '../lib/taskFailure';
import type { DataFactoryTransformPlan, RunDataFactoryTransformInput, RunDataFactoryTransformOutput } from '../lib/transform/dataFactory/dataFactoryContracts';
import type { EntityReference } from '../lib/transform/extractEntity';
import type { MirrorResult } from '../lib/tracking/types';

type Generated<T> = Generator<Task, T, unknown>;

/** A reserved place of this message in the delivery queue of one `fifoPerEntity` destination. */
interface QueueReservation {
  destinationId: string;
  queueKey: string;
  item: QueueItem;
}

/** Progress of one run, kept so that a failure can release the queue places it reserved. */
interface Progress {
  reservations: QueueReservation[];
}

/**
 * Processes one inbound message. It records the message and offers its version to the tracked
 * entity, which accepts only a version newer than the last accepted one. Then it prepares each
 * destination's payload (filter and transform), mirrors the entity state and delivers to every
 * destination in parallel. Payloads travel as payload store names. A connector transform on Data
 * Factory runs first, in the `runDataFactoryTransform` sub-orchestration. For a connector with
 * neither an entity nor a Data Factory transform, `recordMessage` prepares the payloads, so no
 * `transformPayload` activity runs.
 *
 * The message outcome is `stale`, `filtered` (every destination's filter was falsy),
 * `delivered`, or `deadLettered` when a destination ran out of attempts or deadline or got a
 * permanent failure. The other destinations still complete, and then the orchestration fails
 * with the reason, which names each dead-lettered destination. An operator replay skips the
 * version offer and the entity mirror.
 */
const processMessage: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<ProcessMessageInput>();
  const progress: Progress = { reservations: [] };
  let output: ProcessMessageOutput;
  try {
    output = yield* runSteps(context, input, progress);
  } catch (error) {
    const failure = describeTaskFailure(error);
    setStage(context, 'failed');
    yield* releaseQueues(context, progress.reservations);
    yield* recordMessageOutcome(context, input, { outcome: 'deadLettered', reason: failure });
    throw new Error(failure);
  }

  if (output.outcome === 'stale') {
    return output;
  }

  const deadLetters = output.destinations.filter((delivery) => delivery.outcome === 'deadLettered');
  if (deadLetters.length > 0) {
    const reason = describeDeadLetters(input.messageId, deadLetters, output.destinations.length);
    setStage(context, 'deadLettered');
    yield* recordMessageOutcome(context, input, { outcome: 'deadLettered', reason, destinations: output.destinations });
    throw new Error(reason);
  }

  setStage(context, output.outcome);
  yield* recordMessageOutcome(context, input, { outcome: output.outcome, destinations: output.destinations });
  return output;
};

function* runSteps(context: OrchestrationContext, input: ProcessMessageInput, progress: Progress): Generated<ProcessMessageOutput> {
  const payloadReference: PayloadReference = { messageId: input.messageId, connectorId: input.connectorId, rawBlobName: input.rawBlobName };

  setStage(context, 'recording');
  const plan = (yield context.df.callActivity(recordMessageActivityName, input)) as DeliveryPlan;

  let entity: EntityReference | undefined;
  let trackedEntityKey: string | undefined;
  if (plan.hasEntity) {
    setStage(context, 'readingEntity');
    const read = (yield context.df.callActivity(readEntityVersionActivityName, payloadReference)) as ReadEntityVersionOutput;
    entity = read.entity;
    if (entity !== undefined) {
      trackedEntityKey = read.trackedEntityKey ?? createTrackedEntityKey(input.connectorId, entity.type, entity.key);
      progress.reservations = planQueueReservations(input, plan, entity, trackedEntityKey);
    }
  }

  // A replay offers the version in the name of the partner's message, which the tracked entity
  // accepts again unless a newer version has been accepted since, so a replay never overwrites a
  // newer version. It mirrors nothing, because the partner's message did.
  const isReplay = input.replay !== undefined;
  if (entity?.version !== undefined && trackedEntityKey !== undefined) {
    setStage(context, 'offeringVersion');
    const offer = yield* offerVersion(context, input, entity, trackedEntityKey, progress.reservations);
    if (!offer.accepted) {
      progress.reservations = [];
      setStage(context, 'stale');
      // The reason quotes no version, because a version may be a redacted payload value.
      const reason = isReplay
        ? 'the tracked entity has accepted a newer version since the replayed message, so the replay is not delivered'
        : 'the tracked entity has already accepted an equal or newer version';
      yield* recordMessageOutcome(context, input, { outcome: 'stale', reason });
      return { outcome: 'stale', messageId: input.messageId, entity, previousVersion: offer.previousVersion };
    }
  }

  // recordMessage prepares the payloads of a message without an entity or a Data Factory
  // transform. A plan recorded before it did so has none, and then transformPayload runs.
  const payloads = plan.preparedPayloads ?? (yield* transformPayloads(context, input, plan, payloadReference));

  let changeVersion: number | undefined;
  if (entity !== undefined && !isReplay) {
    setStage(context, 'mirroringEntityState');
    const mirrorInput: MirrorEntityStateInput = { messageId: input.messageId, connectorId: input.connectorId, entity };
    const mirror = (yield context.df.callActivity(mirrorEntityStateActivityName, mirrorInput)) as MirrorResult;
    changeVersion = mirror.changeVersion;
  }

  setStage(context, 'delivering');
  const deliveries = yield* deliverToAllDestinations(context, input, plan, payloads, progress, entity);

  const outcome = deliveries.every((delivery) => delivery.outcome === 'filtered') ? 'filtered' : 'delivered';
  return { outcome, messageId: input.messageId, entity, changeVersion, destinations: deliveries };
}

/** Prepares each destination's payload with the `transformPayload` activity, after the Data Factory transform if the connector has one. */
function* transformPayloads(context: OrchestrationContext, input: ProcessMessageInput, plan: DeliveryPlan, payloadReference: PayloadReference): Generated<DestinationPayload[]> {
  setStage(context, 'transforming');
  const transformInput: TransformPayloadInput = {
    ...payloadReference,
    destinationIds: plan.destinations.map((destination) => destination.destinationId),
    replay: input.replay,
  };
  // A replay without retransform delivers the original payloads, so it runs no pipeline.
  if (plan.dataFactoryTransform !== undefined && (input.replay === undefined || input.replay.retransform)) {
    transformInput.connectorPayloadBlobName = yield* transformOnDataFactory(context, input, plan.dataFactoryTransform);
  }
  const prepared = (yield context.df.callActivity(transformPayloadActivityName, transformInput)) as TransformPayloadOutput;
  return prepared.destinations;
}

/**
 * Runs the connector's transform on Data Factory in a sub-orchestration and returns the payload
 * store name of its output. Throws the reason to dead-letter the message when the run failed,
 * was cancelled or timed out.
 */
function* transformOnDataFactory(context: OrchestrationContext, input: ProcessMessageInput, transform: DataFactoryTransformPlan): Generated<string> {
  const runInput: RunDataFactoryTransformInput = {
    ...transform,
    messageId: input.messageId,
    connectorId: input.connectorId,
    inputBlobName: input.rawBlobName,
    outputBlobName: transformedBlobNameOf(input.connectorId, input.messageId),
  };
  const instanceId = createDataFactoryTransformInstanceId(input.messageId);
  const result = (yield context.df.callSubOrchestrator(runDataFactoryTransformOrchestrationName, runInput, instanceId)) as RunDataFactoryTransformOutput;
  if (result.outcome === 'failed') {
    throw new Error(result.reason);
  }
  return result.outputBlobName;
}

/** Returns a queue place for each `fifoPerEntity` destination, keyed by destination and tracked entity. */
function planQueueReservations(input: ProcessMessageInput, plan: DeliveryPlan, entity: EntityReference, trackedEntityKey: string): QueueReservation[] {
  return plan.destinations
    .filter((destination) => destination.ordering === 'fifoPerEntity')
    .map((destination) => ({
      destinationId: destination.destinationId,
      queueKey: createDeliveryQueueKey(destination.destinationId, trackedEntityKey),
      item: { messageId: input.messageId, instanceId: createDeliveryInstanceId(input.messageId, destination.destinationId), version: entity.version },
    }));
}

/**
 * Offers the entity version to the tracked entity, which also reserves the queue places when it
 * accepts, and audits the step `versionAccepted` or `stale`.
 */
function* offerVersion(
  context: OrchestrationContext,
  input: ProcessMessageInput,
  entity: EntityReference,
  trackedEntityKey: string,
  reservations: QueueReservation[],
): Generated<OfferVersionResult> {
  const entityId = new df.EntityId(trackedEntityName, trackedEntityKey);
  const offer: OfferVersionInput = {
    version: entity.version as NonNullable<EntityReference['version']>,
    messageId: input.replay?.rootMessageId ?? input.messageId,
    offeredAt: context.df.currentUtcDateTime.toISOString(),
  };
  if (reservations.length > 0) {
    offer.reserveQueues = reservations.map(({ queueKey, item }) => ({ queueKey, item }));
  }
  const result = (yield context.df.callEntity(entityId, offerVersionOperationName, offer)) as OfferVersionResult;

  const step = result.accepted ? 'versionAccepted' : 'stale';
  yield auditTask(context, input.messageId, step, { entity, previousVersion: result.previousVersion ?? null });
  return result;
}

/**
 * Starts one `deliverToDestination` sub-orchestration per destination that has a payload and
 * waits for all of them. Filtered destinations and those whose payload could not be prepared are
 * recorded without an attempt, and their queue places are released. Returns every destination's
 * result in the order of the plan.
 */
function* deliverToAllDestinations(
  context: OrchestrationContext,
  input: ProcessMessageInput,
  plan: DeliveryPlan,
  payloads: DestinationPayload[],
  progress: Progress,
  entity: EntityReference | undefined,
): Generated<DestinationDelivery[]> {
  const started: Array<{ destinationId: string; task: Task }> = [];
  const settled = new Map<string, DestinationDelivery>();

  for (const payload of payloads) {
    const destination = plan.destinations.find((planned) => planned.destinationId === payload.destinationId) as DestinationPlan;
    if (payload.kind === 'deliver') {
      const deliveryInput = createDeliveryInput(input, destination, payload.payloadBlobName, progress, entity);
      const instanceId = createDeliveryInstanceId(input.messageId, destination.destinationId);
      started.push({ destinationId: destination.destinationId, task: context.df.callSubOrchestrator(deliverToDestinationOrchestrationName, deliveryInput, instanceId) });
      continue;
    }

    const delivery: DestinationDelivery =
      payload.kind === 'filtered'
        ? { destinationId: payload.destinationId, outcome: 'filtered', attempts: 0, reason: 'the destination filter is false for this message' }
        : { destinationId: payload.destinationId, outcome: 'deadLettered', attempts: 0, reason: payload.reason };
    settled.set(payload.destinationId, delivery);
  }

  // The queue places of destinations without a delivery are released before any delivery waits on them.
  const unused = progress.reservations.filter((reservation) => settled.has(reservation.destinationId));
  yield* releaseQueues(context, unused);
  progress.reservations = progress.reservations.filter((reservation) => !settled.has(reservation.destinationId));

  for (const delivery of settled.values()) {
    yield* recordDelivery(context, input, delivery);
  }

  yield* waitForAll(context, started.map((delivery) => delivery.task));
  for (const delivery of started) {
    if (delivery.task.isFaulted) {
      const reason = `the delivery failed with an internal error: ${describeTaskFailure(delivery.task.result)}`;
      settled.set(delivery.destinationId, { destinationId: delivery.destinationId, outcome: 'deadLettered', attempts: 0, reason });
    } else {
      settled.set(delivery.destinationId, delivery.task.result as DestinationDelivery);
    }
  }
  // From here each delivery has released its own queue place.
  progress.reservations = [];
  return payloads.map((payload) => settled.get(payload.destinationId) as DestinationDelivery);
}

/** Waits until every task has completed or failed. Task.all alone would stop at the first failure. */
function* waitForAll(context: OrchestrationContext, tasks: Task[]): Generated<void> {
  if (tasks.length === 0) {
    return;
  }
  try {
    yield context.df.Task.all(tasks);
  } catch {
    // The loop below waits for the others. Each failure is read from its task.
  }
  for (const task of tasks) {
    if (!task.isCompleted && !task.isFaulted) {
      try {
        yield task;
      } catch {
        // Read from the task by the caller.
      }
    }
  }
}

function createDeliveryInput(
  input: ProcessMessageInput,
  destination: DestinationPlan,
  payloadBlobName: string,
  progress: Progress,
  entity: EntityReference | undefined,
): DeliverToDestinationInput {
  const deliveryInput: DeliverToDestinationInput = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    destinationId: destination.destinationId,
    payloadBlobName,
    retry: destination.retry,
    circuit: destination.circuit,
  };
  const reservation = progress.reservations.find((reserved) => reserved.destinationId === destination.destinationId);
  if (reservation !== undefined) {
    deliveryInput.queue = { queueKey: reservation.queueKey, version: entity?.version };
  }
  if (input.traceparent !== undefined) {
    deliveryInput.traceparent = input.traceparent;
  }
  if (input.replay !== undefined && !input.replay.retransform) {
    deliveryInput.idempotencyKey = createDeliveryInstanceId(input.replay.rootMessageId, destination.destinationId);
  }
  return deliveryInput;
}

/** Releases queue places and raises `queueTurn` to each delivery that becomes a head. */
function* releaseQueues(context: OrchestrationContext, reservations: QueueReservation[]): Generated<void> {
  for (const reservation of reservations) {
    const queue = new df.EntityId(deliveryQueueEntityName, reservation.queueKey);
    const release = (yield context.df.callEntity(queue, releaseOperationName, reservation.item)) as QueueRelease;
    if (release.nextHead !== undefined) {
      const notify: NotifyQueueTurnInput = { instanceId: release.nextHead.instanceId, messageId: release.nextHead.messageId, queueKey: reservation.queueKey };
      yield context.df.callActivity(notifyQueueTurnActivityName, notify);
    }
  }
}

function describeDeadLetters(messageId: string, deadLetters: DestinationDelivery[], destinationCount: number): string {
  const details = deadLetters.map((delivery) => `destination ${delivery.destinationId}: ${delivery.reason ?? 'no reason recorded'}`);
  return `Message ${messageId} was dead-lettered for ${deadLetters.length} of ${destinationCount} destinations. ${details.join('; ')}`;
}

function* recordDelivery(context: OrchestrationContext, input: ProcessMessageInput, delivery: DestinationDelivery): Generated<void> {
  const record: RecordDeliveryInput = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    destinationId: delivery.destinationId,
    outcome: delivery.outcome,
    reason: delivery.reason,
    attempts: delivery.attempts,
  };
  yield context.df.callActivity(recordDeliveryActivityName, record);
}

function* recordMessageOutcome(
  context: OrchestrationContext,
  input: ProcessMessageInput,
  fields: Pick<RecordMessageOutcomeInput, 'outcome' | 'reason' | 'destinations'>,
): Generated<void> {
  const record: RecordMessageOutcomeInput = { messageId: input.messageId, connectorId: input.connectorId, ...fields };
  yield context.df.callActivity(recordMessageOutcomeActivityName, record);
}

function auditTask(context: OrchestrationContext, messageId: string, step: string, detail: Record<string, unknown>, key?: string): Task {
  const auditInput: WriteAuditInput = { messageId, step, key, detail };
  return context.df.callActivity(writeAuditActivityName, auditInput);
}

function setStage(context: OrchestrationContext, stage: ProcessingStage): void {
  context.df.setCustomStatus({ stage });
}

df.app.orchestration(processMessageOrchestrationName, processMessage);
