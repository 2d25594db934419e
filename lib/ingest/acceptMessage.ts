import crypto from 'node:crypto';
import type { HttpResponseInit } from '@azure/functions';
import type { Connector } from '../config/types';
import type { ProcessMessageInput } from '../contracts';
import { isValidTraceparent } from '../delivery/traceparent';
import { pickForwardedHeaders } from '../delivery/forwardedHeaders';
import type { Dependencies } from '../dependencies';
import { errorMessageOf } from '../errors';
import { processMessageOrchestrationName } from '../functionNames';
import { problemResponse, problemTypes } from '../http/problem';
import { createMessageId, hashDedupKey, rawBlobNameOf } from '../ids';
import type { ClaimResult } from '../tracking/types';
import type { RequestHeaders } from './checkPayload';

/** Age after which a `receiving` claim counts as abandoned by a crashed request and may be taken over. */
export const receivingClaimTakeOverAfterInMilliseconds = 30_000;

/** Maximum time that a duplicate request waits for a concurrent first request to be accepted. */
export const duplicateWaitInMilliseconds = 5_000;

const duplicatePollIntervalInMilliseconds = 100;

/** Path of the message status endpoint, under the `api` route prefix of host.json. */
const messageStatusPathPrefix = '/api/messages/';

/** The part of the Durable Functions client that accepting a message uses. */
export interface OrchestrationStarter {
  startNew(orchestratorFunctionName: string, options: { instanceId: string; input: unknown }): Promise<string>;
  getStatus(instanceId: string): Promise<{ runtimeStatus?: unknown } | undefined>;
}

/** A payload that passed every check and is ready to become a message. */
export interface AcceptableMessage {
  /** The exact bytes received, still encoded when `contentEncoding` is set. */
  bytes: Buffer;
  contentType: string;
  /** Normalised content coding of `bytes`, such as "gzip". Absent when they are not encoded. */
  contentEncoding?: string;
  dedupKey?: string;
  /** The partner's request headers. Absent for a released quarantined payload, whose headers were not kept. */
  requestHeaders?: RequestHeaders;
}

/**
 * `accepted` when this call stored and started the message, `duplicate` when an earlier
 * request did, and `unavailable` when the message could not be stored or started now.
 */
export type AcceptResult =
  | { outcome: 'accepted' | 'duplicate'; messageId: string; response: HttpResponseInit }
  | { outcome: 'unavailable'; messageId: string; response: HttpResponseInit };

/**
 * Claims the message id, stores the raw bytes and starts the orchestration. When storing
 * or starting fails, it releases the claim and responds with 503, so the partner's retry can succeed.
 *
 * NOTE: when startNew reports a failure after the host did create the instance, the
 * released claim lets a retry start the same instance id again.
 */
export async function acceptMessage(
  connector: Connector,
  valid: AcceptableMessage,
  starter: OrchestrationStarter,
  dependencies: Dependencies,
): Promise<AcceptResult> {
  const { trackingStore, payloadStore, logger } = dependencies;
  const messageId = createMessageId(connector.id, valid.dedupKey);
  const claimToken = crypto.randomUUID();
  const logFields = { connectorId: connector.id, messageId, instanceId: messageId };

  const claim = await claimOrWaitForDuplicate(connector.id, messageId, claimToken, valid.dedupKey, dependencies);
  if (claim.status === 'exists') {
    if (claim.message.claimState === 'accepted') {
      logger.info(logFields, 'duplicate message acknowledged');
      return { outcome: 'duplicate', messageId, response: messageIdResponse(200, messageId) };
    }
    logger.warn(logFields, 'duplicate message still being received by another request');
    const response = temporarilyUnavailable(`Message ${messageId} is still being received from an earlier request. Send it again in a few seconds.`);
    return { outcome: 'unavailable', messageId, response };
  }

  const rawBlobName = rawBlobNameOf(connector.id, messageId);
  let input: ProcessMessageInput;
  try {
    const digest = await payloadStore.put(rawBlobName, valid.bytes, { contentType: valid.contentType, contentEncoding: valid.contentEncoding });
    input = {
      messageId,
      connectorId: connector.id,
      rawBlobName,
      receivedAt: claim.message.receivedAt,
      contentType: valid.contentType,
      sizeInBytes: digest.sizeInBytes,
      sha256: digest.sha256,
    };
    // Set only when present, so that the input of an unencoded message keeps its earlier shape.
    if (valid.contentEncoding !== undefined) {
      input.contentEncoding = valid.contentEncoding;
    }
    const partnerTraceparent = valid.requestHeaders?.get('traceparent')?.trim();
    if (partnerTraceparent !== undefined && isValidTraceparent(partnerTraceparent)) {
      input.traceparent = partnerTraceparent;
    }
    const alreadyStarted = claim.takenOver && (await instanceExists(starter, messageId));
    if (!alreadyStarted) {
      await starter.startNew(processMessageOrchestrationName, { instanceId: messageId, input });
    }
  } catch (error) {
    await trackingStore.releaseClaim(messageId, claimToken);
    logger.error({ ...logFields, error: errorMessageOf(error) }, 'storing or starting the message failed, claim released');
    const response = temporarilyUnavailable('The message could not be stored or scheduled. Send it again later.');
    return { outcome: 'unavailable', messageId, response };
  }

  const accepted = await trackingStore.markAccepted(messageId, claimToken, {
    rawBlobName,
    sizeInBytes: input.sizeInBytes,
    sha256: input.sha256,
    contentType: input.contentType,
    contentEncoding: input.contentEncoding,
    forwardedHeaders: valid.requestHeaders === undefined ? undefined : pickForwardedHeaders(connector, valid.requestHeaders),
  });
  if (!accepted) {
    logger.warn(logFields, 'claim was taken over before it was marked accepted');
  }
  logger.info({ ...logFields, sizeInBytes: input.sizeInBytes, takenOver: claim.takenOver }, 'message accepted');
  return { outcome: 'accepted', messageId, response: messageIdResponse(202, messageId) };
}

/** Minimum time between two sweeps of messages older than the dedup window. */
const dedupSweepIntervalInMilliseconds = 60_000;
let lastDedupSweepAtInMilliseconds = 0;

/**
 * Deletes the tracking records of messages older than the dedup window, at most once a
 * minute, so that a dedup key seen before the window makes a new message.
 */
async function sweepExpiredMessages(dependencies: Dependencies): Promise<void> {
  const now = dependencies.clock().getTime();
  if (now - lastDedupSweepAtInMilliseconds < dedupSweepIntervalInMilliseconds) {
    return;
  }
  lastDedupSweepAtInMilliseconds = now;
  const windowInMilliseconds = dependencies.settings.dedupWindowInDays * 24 * 60 * 60 * 1000;
  const deleted = await dependencies.trackingStore.deleteMessagesOlderThan(new Date(now - windowInMilliseconds));
  if (deleted > 0) {
    dependencies.logger.info({ deleted, dedupWindowInDays: dependencies.settings.dedupWindowInDays }, 'messages older than the dedup window deleted');
  }
}

/**
 * Claims the message id. When a concurrent request holds a `receiving` claim, polls for
 * up to `duplicateWaitInMilliseconds` until that request is accepted, releases its
 * claim, or its claim is old enough to take over.
 */
async function claimOrWaitForDuplicate(
  connectorId: string,
  messageId: string,
  claimToken: string,
  dedupKey: string | undefined,
  dependencies: Dependencies,
): Promise<ClaimResult> {
  const maxPolls = Math.ceil(duplicateWaitInMilliseconds / duplicatePollIntervalInMilliseconds);
  const claimRequest = {
    messageId,
    connectorId,
    dedupKeyHash: dedupKey === undefined ? undefined : hashDedupKey(dedupKey),
    claimToken,
    takeOverReceivingAfterInMilliseconds: receivingClaimTakeOverAfterInMilliseconds,
  };

  await sweepExpiredMessages(dependencies);
  let claim = await dependencies.trackingStore.claimMessage({ ...claimRequest, now: dependencies.clock() });
  for (let poll = 0; poll < maxPolls && claim.status === 'exists' && claim.message.claimState === 'receiving'; poll++) {
    await new Promise((resolve) => setTimeout(resolve, duplicatePollIntervalInMilliseconds));
    claim = await dependencies.trackingStore.claimMessage({ ...claimRequest, now: dependencies.clock() });
  }
  return claim;
}

async function instanceExists(starter: OrchestrationStarter, instanceId: string): Promise<boolean> {
  try {
    const status = await starter.getStatus(instanceId);
    return status?.runtimeStatus !== undefined;
  } catch (error) {
    // durable-functions reports an unknown instance id as an error that names HTTP 404.
    if (/\b404\b/.test(errorMessageOf(error))) {
      return false;
    }
    throw error;
  }
}

/** Builds the 200 or 202 response with the message id and the `Location` of its status. */
export function messageIdResponse(status: 200 | 202, messageId: string): HttpResponseInit {
  return {
    status,
    headers: { 'Content-Type': 'application/json', Location: `${messageStatusPathPrefix}${messageId}` },
    body: JSON.stringify({ messageId }),
  };
}

function temporarilyUnavailable(detail: string): HttpResponseInit {
  return problemResponse(
    { type: problemTypes.temporarilyUnavailable, title: 'Temporarily unavailable', status: 503, detail },
    { 'Retry-After': '5' },
  );
}
