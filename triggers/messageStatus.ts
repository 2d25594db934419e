import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DeliveryQueueState, ProcessMessageOutput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { errorMessageOf } from '../lib/errors';
import { deliveryQueueEntityName, messageStatusFunctionName } from '../lib/functionNames';
import { problemResponse, problemTypes } from '../lib/http/problem';
import { handleWithRequestId } from '../lib/http/requestId';
import { createDeliveryQueueKey, isMessageId, trackedEntityKeyOf } from '../lib/ids';
import { createMessageScrubber } from '../lib/redaction/messageScrubber';
import { scrubValues } from '../lib/redaction/redactPayload';
import type { AttemptRecord, DeliveryRecord, MessageOutcome as StoredOutcome, MessageRecord } from '../lib/tracking/types';

/**
 * The stored outcome once processing has ended. Before that, or for a message whose processing
 * stored none, it is derived from the orchestration: `pending` while it runs, and `failed` when it
 * failed or was terminated.
 */
export type MessageOutcome = StoredOutcome | 'failed' | 'pending';

/** The part of the Durable Functions client that the status trigger uses. */
export interface OrchestrationStatusReader {
  getStatus(instanceId: string): Promise<{ runtimeStatus?: unknown; output?: unknown; customStatus?: unknown } | undefined>;
  /** Reads the state of an entity, here a `deliveryQueue`. Without it the status shows no queues. */
  readEntityState?<T>(entityId: df.EntityId): Promise<{ entityExists: boolean; entityState?: T }>;
}

interface OrchestrationView {
  runtimeStatus?: string;
  output?: unknown;
  customStatus?: unknown;
}

/**
 * Returns the lineage of one message: the request as received, the orchestration's
 * runtime status and outcome, the entity, each destination's delivery with every attempt, the
 * replays and the audit trail. Everything but the runtime status and stage
 * comes from the tracking store, so the status outlives a purge of the orchestration history.
 * Values at the connector's `redact` pointers and secret values are replaced by `[redacted]`.
 */
export async function readMessageStatus(
  messageId: string,
  reader: OrchestrationStatusReader,
  dependencies: Dependencies = getDependencies(),
): Promise<HttpResponseInit> {
  const message = isMessageId(messageId) ? await dependencies.trackingStore.getMessage(messageId) : undefined;
  if (message === undefined) {
    return problemResponse({
      type: problemTypes.messageNotFound,
      title: 'Message not found',
      status: 404,
      detail: `No message has the id "${messageId}". Use the messageId returned when the message was sent; messages expire after the dedup window.`,
    });
  }

  const orchestration = await readOrchestration(reader, messageId, dependencies);
  const audit = await dependencies.trackingStore.listAudit(messageId);
  const derivedOutcome = orchestration.runtimeStatus === undefined ? outcomeFromAudit(audit.map((entry) => entry.step)) : outcomeOf(orchestration);
  const outcome: MessageOutcome = message.outcome ?? derivedOutcome;
  const body = {
    messageId: message.messageId,
    connectorId: message.connectorId,
    receivedAt: message.receivedAt,
    claimState: message.claimState,
    sizeInBytes: message.sizeInBytes ?? null,
    sha256: message.sha256 ?? null,
    contentType: message.contentType ?? null,
    contentEncoding: message.contentEncoding ?? null,
    runtimeStatus: orchestration.runtimeStatus ?? null,
    stage: stageOf(orchestration.customStatus),
    outcome,
    outcomeReason: message.outcomeReason ?? null,
    completedAt: message.completedAt ?? null,
    configurationVersion: message.configurationVersion ?? null,
    failure: orchestration.runtimeStatus === 'Failed' ? orchestration.output ?? null : null,
    entityType: message.entity?.type ?? null,
    entityKey: message.entity?.key ?? null,
    entityVersion: message.entity?.version ?? null,
    destinations: describeDestinations(
      await dependencies.trackingStore.listDeliveries(messageId),
      await dependencies.trackingStore.listAttempts(messageId),
      configuredDestinationIds(dependencies, message.connectorId),
      outcome,
    ),
    replayOf: message.replayOf ?? null,
    replays: await dependencies.trackingStore.listReplaysOf(messageId),
    audit: audit.map(({ at, step, key, detail }) => ({ at, step, key, detail })),
  };

  await addQueuePositions(body.destinations, message, reader, dependencies);

  // The entity, the failure, the destinations (reasons and response bodies) and the audit trail may
  // quote payload values, so the connector's redacted values are replaced there. Secret values are
  // then replaced in the whole body as a last safeguard.
  const connector = dependencies.connectors.byId.get(message.connectorId);
  if (connector !== undefined) {
    const scrubber = await createMessageScrubber(connector, message.rawBlobName, messageId, dependencies);
    body.entityKey = scrubValues(body.entityKey, scrubber);
    body.entityVersion = scrubValues(body.entityVersion, scrubber);
    body.failure = scrubValues(body.failure, scrubber);
    body.outcomeReason = scrubValues(body.outcomeReason, scrubber);
    body.destinations = scrubValues(body.destinations, scrubber);
    body.audit = scrubValues(body.audit, scrubber);
  }
  const text = dependencies.trackingStore.scrubAuditText(JSON.stringify(body));
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: text };
}

/** Reads the orchestration status, and returns no runtime status when the instance does not exist yet. */
async function readOrchestration(reader: OrchestrationStatusReader, messageId: string, dependencies: Dependencies): Promise<OrchestrationView> {
  try {
    const status = await reader.getStatus(messageId);
    if (status === undefined) {
      return {};
    }
    return {
      runtimeStatus: typeof status.runtimeStatus === 'string' ? status.runtimeStatus : undefined,
      output: status.output,
      customStatus: status.customStatus,
    };
  } catch (error) {
    // durable-functions reports an unknown instance id as an error; a message still being received has none.
    dependencies.logger.warn({ messageId, instanceId: messageId, error: errorMessageOf(error) }, 'orchestration status could not be read');
    return {};
  }
}

function outcomeOf(orchestration: OrchestrationView): MessageOutcome {
  switch (orchestration.runtimeStatus) {
    case 'Completed': {
      const output = orchestration.output as ProcessMessageOutput | undefined;
      return output?.outcome === 'stale' ? 'stale' : 'delivered';
    }
    case 'Failed':
    case 'Terminated':
    case 'Canceled':
      return 'failed';
    default:
      return 'pending';
  }
}

/**
 * Derives the outcome from the audit trail when the orchestration's status is gone, for example
 * after an operator purged its history: the final audit steps outlive the instance.
 */
function outcomeFromAudit(steps: string[]): MessageOutcome {
  if (steps.includes('completed')) {
    return 'delivered';
  }
  if (steps.includes('stale')) {
    return 'stale';
  }
  return steps.includes('failed') ? 'failed' : 'pending';
}

function stageOf(customStatus: unknown): string | null {
  if (typeof customStatus === 'object' && customStatus !== null && 'stage' in customStatus) {
    return String((customStatus as { stage: unknown }).stage);
  }
  return null;
}

function configuredDestinationIds(dependencies: Dependencies, connectorId: string): string[] {
  return dependencies.connectors.byId.get(connectorId)?.destinations.map((destination) => destination.id) ?? [];
}

/**
 * Outcome of one destination: the stored delivery outcome (`pending`, `delivered`, `deadLettered`,
 * `filtered`) once processing has recorded one. Before that it is derived: `delivered` after a
 * successful attempt, `skipped` when the message was stale, `failed` when the message failed
 * without a delivery to the destination, and `pending` otherwise.
 */
type DestinationOutcome = DeliveryRecord['outcome'] | 'failed' | 'skipped';

function derivedDestinationOutcome(attempts: AttemptRecord[], messageOutcome: MessageOutcome): DestinationOutcome {
  if (attempts.some((attempt) => attempt.outcome === 'delivered')) {
    return 'delivered';
  }
  if (messageOutcome === 'stale' || messageOutcome === 'filtered') {
    return 'skipped';
  }
  return messageOutcome === 'failed' || messageOutcome === 'deadLettered' ? 'failed' : 'pending';
}

/**
 * Returns one entry per destination with its delivery and every attempt. The destinations are those with a
 * recorded delivery, which for a replay are the chosen ones; without any, the connector's
 * configured destinations. A destination with attempts but no delivery is listed too.
 */
function describeDestinations(
  deliveries: DeliveryRecord[],
  attempts: AttemptRecord[],
  configuredIds: string[],
  messageOutcome: MessageOutcome,
): Array<Record<string, unknown>> {
  const destinationIds = deliveries.length > 0 ? deliveries.map((delivery) => delivery.destinationId) : [...configuredIds];
  for (const attempt of attempts) {
    if (!destinationIds.includes(attempt.destinationId)) {
      destinationIds.push(attempt.destinationId);
    }
  }

  return destinationIds.map((destinationId) => {
    const delivery = deliveries.find((candidate) => candidate.destinationId === destinationId);
    const destinationAttempts = attempts.filter((attempt) => attempt.destinationId === destinationId);
    return {
      destinationId,
      outcome: delivery?.outcome ?? derivedDestinationOutcome(destinationAttempts, messageOutcome),
      reason: delivery?.reason ?? null,
      statusCode: delivery?.statusCode ?? null,
      updatedAt: delivery?.updatedAt ?? null,
      attempts: destinationAttempts.map((attempt) => ({
        attemptNumber: attempt.attemptNumber,
        startedAt: attempt.startedAt,
        outcome: attempt.outcome,
        statusCode: attempt.statusCode ?? null,
        error: attempt.error ?? null,
        durationInMilliseconds: attempt.durationInMilliseconds,
        responseBodyStart: attempt.responseBodyStart ?? null,
      })),
    };
  });
}

/**
 * Adds `queue` to each pending delivery to a `fifoPerEntity` destination: the message being
 * delivered for the entity key, this message's position (0 for the head) and the messages that
 * wait behind it, read from the `deliveryQueue` entity.
 */
async function addQueuePositions(
  destinations: Array<Record<string, unknown>>,
  message: MessageRecord,
  reader: OrchestrationStatusReader,
  dependencies: Dependencies,
): Promise<void> {
  const connector = dependencies.connectors.byId.get(message.connectorId);
  if (connector === undefined || message.entity === undefined || reader.readEntityState === undefined) {
    return;
  }
  const trackedEntityKey = trackedEntityKeyOf(connector, message.entity.type, message.entity.key);
  for (const view of destinations) {
    const destination = connector.destinations.find((candidate) => candidate.id === view.destinationId);
    if (destination?.ordering !== 'fifoPerEntity' || view.outcome !== 'pending') {
      continue;
    }
    const queueKey = createDeliveryQueueKey(destination.id, trackedEntityKey);
    try {
      const response = await reader.readEntityState<DeliveryQueueState>(new df.EntityId(deliveryQueueEntityName, queueKey));
      view.queue = describeQueuePosition(response.entityState, message.messageId);
    } catch (error) {
      dependencies.logger.warn({ messageId: message.messageId, destinationId: destination.id, error: errorMessageOf(error) }, 'delivery queue could not be read');
    }
  }
}

/** Returns the position of `messageId` in a delivery queue, with the head and the messages after it. */
function describeQueuePosition(state: DeliveryQueueState | undefined, messageId: string): Record<string, unknown> {
  const items = state === undefined ? [] : [...(state.head === undefined ? [] : [state.head]), ...state.waiting];
  const index = items.findIndex((item) => item.messageId === messageId);
  return {
    headMessageId: state?.head?.messageId ?? null,
    position: index === -1 ? null : index,
    waitingBehind: index === -1 ? [] : items.slice(index + 1).map((item) => item.messageId),
  };
}

app.http(messageStatusFunctionName, {
  methods: ['GET'],
  route: 'messages/{messageId}',
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => readMessageStatus(request.params.messageId ?? '', df.getClient(context), dependencies), {
      logRejection: true,
    }),
});
