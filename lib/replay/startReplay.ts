import crypto from 'node:crypto';
import type { ProcessMessageInput, ReplayOrigin } from '../contracts';
import type { Dependencies } from '../dependencies';
import { errorMessageOf } from '../errors';
import { processMessageOrchestrationName } from '../functionNames';
import { createMessageId } from '../ids';
import type { OrchestrationStarter } from '../ingest/acceptMessage';
import type { MessageRecord } from '../tracking/types';
import { createBulkReplayMessageId } from './replayIds';

/** An operator's request to replay one message. */
export interface ReplayRequest {
  originalMessageId: string;
  reason: string;
  operator: string;
  /** Absent: all of the connector's current destinations. */
  destinationIds?: string[];
  retransform: boolean;
  bulkReplayId?: string;
}

/** The reason a message cannot be replayed. The trigger turns each into a problem response. */
export type ReplayRefusal =
  | { refusal: 'messageNotFound'; detail: string }
  | { refusal: 'connectorRemoved'; detail: string }
  | { refusal: 'unknownDestination'; detail: string; connectorId: string; destinationId: string; validDestinationIds: string[] }
  | { refusal: 'payloadGone'; detail: string }
  | { refusal: 'stillProcessing'; detail: string; runtimeStatus: string };

export type ReplayResult = { outcome: 'started'; messageId: string } | ({ outcome: 'refused' } & ReplayRefusal);

/** Runtime statuses after which an instance does nothing more. */
const finishedRuntimeStatuses = ['Completed', 'Failed', 'Terminated', 'Canceled'];

/**
 * Replays a message as a new message linked to it: claims a message row with the original's
 * stored bytes and `replay_of`, starts `processMessage` with the replay origin, audits
 * `replayed` on the original and `replayRequested` on the replay, and publishes
 * `message.replayed`. A bulk replay's message id is derived from the bulk replay and the
 * original, so calling this again for the same pair starts nothing new. Throws when the
 * orchestration cannot be started; the claim is then released.
 */
export async function startReplay(request: ReplayRequest, starter: OrchestrationStarter, dependencies: Dependencies): Promise<ReplayResult> {
  const { trackingStore, logger } = dependencies;
  const original = await trackingStore.getMessage(request.originalMessageId);
  if (original === undefined) {
    return { outcome: 'refused', ...notFound(request.originalMessageId) };
  }
  const refusal = await checkReplayable(original, request, starter, dependencies);
  if (refusal !== undefined) {
    return { outcome: 'refused', ...refusal };
  }

  const messageId =
    request.bulkReplayId === undefined
      ? createMessageId(original.connectorId, undefined)
      : createBulkReplayMessageId(original.connectorId, request.bulkReplayId, original.messageId);
  const claim = await trackingStore.claimReplayMessage(original, { messageId, claimToken: crypto.randomUUID(), now: dependencies.clock() });
  const replayMessage = claim.message;
  const logFields = { connectorId: original.connectorId, messageId, instanceId: messageId, originalMessageId: original.messageId, bulkReplayId: request.bulkReplayId };

  const alreadyStarted = !claim.inserted && (await readRuntimeStatus(starter, messageId)) !== undefined;
  if (!alreadyStarted) {
    try {
      await starter.startNew(processMessageOrchestrationName, { instanceId: messageId, input: toProcessMessageInput(replayMessage, request, await findRootMessageId(original, dependencies)) });
    } catch (error) {
      await trackingStore.releaseClaim(messageId, replayMessage.claimToken);
      logger.error({ ...logFields, error: errorMessageOf(error) }, 'starting the replay failed, claim released');
      throw error;
    }
  }
  await trackingStore.markAccepted(messageId, replayMessage.claimToken, {
    rawBlobName: replayMessage.rawBlobName ?? '',
    sizeInBytes: replayMessage.sizeInBytes ?? 0,
    sha256: replayMessage.sha256 ?? '',
    contentType: replayMessage.contentType ?? '',
    contentEncoding: replayMessage.contentEncoding,
    forwardedHeaders: replayMessage.forwardedHeaders,
  });

  await auditReplay(original, messageId, request, dependencies);
  await dependencies.eventPublisher.publish({
    type: 'message.replayed',
    messageId: original.messageId,
    connectorId: original.connectorId,
    time: replayMessage.receivedAt,
    key: messageId,
    data: { replayMessageId: messageId, operator: request.operator, reason: request.reason, ...(request.bulkReplayId === undefined ? {} : { bulkReplayId: request.bulkReplayId }) },
  });
  logger.info({ ...logFields, operator: request.operator }, 'message replay started');
  return { outcome: 'started', messageId };
}

/** Returns why `original` cannot be replayed as requested, or undefined when it can. */
async function checkReplayable(
  original: MessageRecord,
  request: ReplayRequest,
  starter: OrchestrationStarter,
  dependencies: Dependencies,
): Promise<ReplayRefusal | undefined> {
  if (original.claimState !== 'accepted') {
    return notFound(original.messageId);
  }
  const connector = dependencies.connectors.byId.get(original.connectorId);
  if (connector === undefined) {
    return {
      refusal: 'connectorRemoved',
      detail: `Message ${original.messageId} belongs to connector "${original.connectorId}", which is not in the connectors file. Restore the connector, restart the host and replay the message again.`,
    };
  }

  const validDestinationIds = connector.destinations.map((destination) => destination.id);
  const unknownDestinationId = request.destinationIds?.find((destinationId) => !validDestinationIds.includes(destinationId));
  if (unknownDestinationId !== undefined) {
    return {
      refusal: 'unknownDestination',
      connectorId: connector.id,
      destinationId: unknownDestinationId,
      validDestinationIds,
      detail: `Connector "${connector.id}" has no destination "${unknownDestinationId}". Use destination ids of that connector: ${validDestinationIds.join(', ')}.`,
    };
  }

  if (original.rawBlobName === undefined || !(await dependencies.payloadStore.exists(original.rawBlobName))) {
    return {
      refusal: 'payloadGone',
      detail: `The raw payload of message ${original.messageId} is no longer in the payload store${original.rawBlobName === undefined ? '' : ` (${original.rawBlobName})`}, so it cannot be replayed. Ask the partner to send the payload again.`,
    };
  }

  // The outcome is stored when processing ends. Without one, the orchestration's status shows
  // whether it still runs. An instance that is gone was purged after it finished.
  if (original.outcome === undefined) {
    const runtimeStatus = await readRuntimeStatus(starter, original.messageId);
    if (runtimeStatus !== undefined && !finishedRuntimeStatuses.includes(runtimeStatus)) {
      return {
        refusal: 'stillProcessing',
        runtimeStatus,
        detail: `Message ${original.messageId} is still being processed (runtime status ${runtimeStatus}). Wait until its status shows an outcome, then replay it.`,
      };
    }
  }
  return undefined;
}

function notFound(messageId: string): ReplayRefusal {
  return {
    refusal: 'messageNotFound',
    detail: `No message has the id "${messageId}". Use a messageId from GET /api/messages; messages expire after the dedup window.`,
  };
}

/** Maximum number of replays followed back to the partner's message. */
const maxReplayChainLength = 1000;

/**
 * Returns the id of the message the partner sent, following `replayOf` back from `original`. When
 * a message of the chain has expired, the chain ends at its id.
 */
async function findRootMessageId(original: MessageRecord, dependencies: Dependencies): Promise<string> {
  let message = original;
  for (let step = 0; step < maxReplayChainLength && message.replayOf !== undefined; step++) {
    const earlier = await dependencies.trackingStore.getMessage(message.replayOf);
    if (earlier === undefined) {
      return message.replayOf;
    }
    message = earlier;
  }
  return message.messageId;
}

function toProcessMessageInput(replayMessage: MessageRecord, request: ReplayRequest, rootMessageId: string): ProcessMessageInput {
  const replay: ReplayOrigin = {
    originalMessageId: request.originalMessageId,
    rootMessageId,
    retransform: request.retransform,
    reason: request.reason,
    operator: request.operator,
  };
  if (request.destinationIds !== undefined) replay.destinationIds = request.destinationIds;
  if (request.bulkReplayId !== undefined) replay.bulkReplayId = request.bulkReplayId;

  const input: ProcessMessageInput = {
    messageId: replayMessage.messageId,
    connectorId: replayMessage.connectorId,
    rawBlobName: replayMessage.rawBlobName ?? '',
    receivedAt: replayMessage.receivedAt,
    contentType: replayMessage.contentType ?? '',
    sizeInBytes: replayMessage.sizeInBytes ?? 0,
    sha256: replayMessage.sha256 ?? '',
    replay,
  };
  if (replayMessage.contentEncoding !== undefined) {
    input.contentEncoding = replayMessage.contentEncoding;
  }
  return input;
}

/** Audits the replay on both messages. Entries that exist already are kept, so a repeated call adds nothing. */
async function auditReplay(original: MessageRecord, messageId: string, request: ReplayRequest, dependencies: Dependencies): Promise<void> {
  const at = dependencies.clock().toISOString();
  const common = {
    operator: request.operator,
    reason: request.reason,
    destinationIds: request.destinationIds ?? null,
    retransform: request.retransform,
    bulkReplayId: request.bulkReplayId ?? null,
  };
  await dependencies.trackingStore.appendAudit({ messageId: original.messageId, at, step: 'replayed', key: messageId, detail: { messageId, ...common } });
  await dependencies.trackingStore.appendAudit({ messageId, at, step: 'replayRequested', detail: { originalMessageId: original.messageId, ...common } });
}

/** Returns the runtime status of an instance, or undefined when the instance does not exist. */
export async function readRuntimeStatus(starter: OrchestrationStarter, instanceId: string): Promise<string | undefined> {
  try {
    const status = await starter.getStatus(instanceId);
    return typeof status?.runtimeStatus === 'string' ? status.runtimeStatus : undefined;
  } catch (error) {
    // durable-functions reports an unknown instance id as an error that names HTTP 404.
    if (/\b404\b/.test(errorMessageOf(error))) {
      return undefined;
    }
    throw error;
  }
}
