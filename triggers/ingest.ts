import crypto from 'node:crypto';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { Connector } from '../lib/config/types';
import type { ProcessMessageInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { errorMessageOf } from '../lib/errors';
import { ingestMessageFunctionName, processMessageOrchestrationName } from '../lib/functionNames';
import { problemResponse, problemTypes } from '../lib/http/problem';
import { createMessageId, hashDedupKey, rawBlobNameOf } from '../lib/ids';
import { verifyHmacSha256 } from '../lib/signature/verifyHmacSha256';
import type { ClaimResult } from '../lib/tracking/types';

/** Age after which a `receiving` claim counts as abandoned by a crashed request and may be taken over. */
export const receivingClaimTakeOverAfterInMilliseconds = 30_000;

/** Maximum time that a duplicate request waits for a concurrent first request to be accepted. */
export const duplicateWaitInMilliseconds = 5_000;

const duplicatePollIntervalInMilliseconds = 100;

/** Path of the message status endpoint, under the `api` route prefix of host.json. */
const messageStatusPathPrefix = '/api/messages/';

/** The part of the Durable Functions client that the ingest trigger uses. */
export interface OrchestrationStarter {
  startNew(orchestratorFunctionName: string, options: { instanceId: string; input: unknown }): Promise<string>;
  getStatus(instanceId: string): Promise<{ runtimeStatus?: unknown } | undefined>;
}

interface ValidRequest {
  bytes: Buffer;
  contentType: string;
  dedupKey?: string;
}

type Validation = { rejection: HttpResponseInit; request?: undefined } | { rejection?: undefined; request: ValidRequest };

/**
 * Accepts one inbound message for a connector. After checking size, signature, content
 * type and JSON syntax, it claims the message id, stores the raw bytes, starts
 * `processMessage` and responds with 202 and the message id. A duplicate of an accepted
 * message gets 200 with the same id. A rejected request stores and starts nothing.
 */
export async function ingestMessage(
  request: HttpRequest,
  starter: OrchestrationStarter,
  dependencies: Dependencies = getDependencies(),
): Promise<HttpResponseInit> {
  const connectorId = request.params.connectorId ?? '';
  const connector = dependencies.connectors.byId.get(connectorId);
  if (connector === undefined) {
    dependencies.logger.info({ connectorId, status: 404 }, 'inbound request rejected: unknown connector');
    return problemResponse({
      type: problemTypes.unknownConnector,
      title: 'Unknown connector',
      status: 404,
      detail: `No connector has the id "${connectorId}". Check the connector id in the URL.`,
    });
  }

  const validation = await validateRequest(request, connector, dependencies);
  if (validation.rejection !== undefined) {
    dependencies.logger.info(
      { connectorId, status: validation.rejection.status, reason: problemDetailOf(validation.rejection), dedupKey: connector.dedupKey ? (request.headers.get(connector.dedupKey.header) ?? undefined) : undefined },
      'inbound request rejected',
    );
    return validation.rejection;
  }
  return acceptMessage(connector, validation.request, starter, dependencies);
}

/** Returns the request's bytes, content type and dedup key, or the problem response that rejects it. */
async function validateRequest(request: HttpRequest, connector: Connector, dependencies: Dependencies): Promise<Validation> {
  const maxBodyBytes = connector.inbound.maxBodyBytes;
  const declaredLength = Number(request.headers.get('content-length') ?? '0');
  if (declaredLength > maxBodyBytes) {
    return { rejection: payloadTooLarge(declaredLength, maxBodyBytes) };
  }
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.byteLength > maxBodyBytes) {
    return { rejection: payloadTooLarge(bytes.byteLength, maxBodyBytes) };
  }

  const authRejection = checkAuthentication(request, bytes, connector, dependencies);
  if (authRejection !== undefined) {
    return { rejection: authRejection };
  }

  const contentType = request.headers.get('content-type') ?? '';
  const contentEncoding = request.headers.get('content-encoding') ?? 'identity';
  if (!isJsonContentType(contentType) || contentEncoding.trim().toLowerCase() !== 'identity') {
    const rejection = problemResponse({
      type: problemTypes.unsupportedMediaType,
      title: 'Unsupported media type',
      status: 415,
      detail:
        `Content-Type "${contentType}" with Content-Encoding "${contentEncoding}" is not accepted. ` +
        'Send uncompressed JSON with Content-Type application/json or a +json media type.',
    });
    return { rejection };
  }

  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    const rejection = problemResponse({
      type: problemTypes.invalidJson,
      title: 'Invalid JSON',
      status: 400,
      detail: `The request body is not valid UTF-8 JSON: ${errorMessageOf(error)}. Fix the payload and send it again.`,
    });
    return { rejection };
  }

  const dedupKey = connector.dedupKey === undefined ? undefined : request.headers.get(connector.dedupKey.header)?.trim();
  return { request: { bytes, contentType, dedupKey: dedupKey === '' ? undefined : dedupKey } };
}

/** Returns a 401 problem when the request's signature is missing or wrong, or undefined when it is valid or not required. */
function checkAuthentication(request: HttpRequest, bytes: Buffer, connector: Connector, dependencies: Dependencies): HttpResponseInit | undefined {
  const auth = connector.inbound.auth;
  if (auth.type === 'none') {
    return undefined;
  }

  const secret = dependencies.readSecret(auth.secretRef);
  if (secret === undefined) {
    dependencies.logger.error({ connectorId: connector.id, secretRef: auth.secretRef }, 'connector secret setting is not set');
    return problemResponse({
      type: problemTypes.connectorMisconfigured,
      title: 'Connector not configured',
      status: 500,
      detail: `Connector "${connector.id}" cannot verify signatures because its secret is not configured. Contact the operator of this endpoint.`,
    });
  }

  const check = verifyHmacSha256(bytes, request.headers.get(auth.header), secret, auth.header);
  if (check.valid) {
    return undefined;
  }
  return problemResponse(
    { type: problemTypes.unauthorized, title: 'Invalid signature', status: 401, detail: check.message },
    { 'WWW-Authenticate': `HMAC-SHA256 header="${auth.header}"` },
  );
}

/**
 * Claims the message id, stores the raw bytes and starts the orchestration. When storing
 * or starting fails, it releases the claim and responds with 503, so the partner's retry can succeed.
 *
 * NOTE: when startNew reports a failure after the host did create the instance, the
 * released claim lets a retry start the same instance id again.
 */
async function acceptMessage(connector: Connector, valid: ValidRequest, starter: OrchestrationStarter, dependencies: Dependencies): Promise<HttpResponseInit> {
  const { trackingStore, payloadStore, logger } = dependencies;
  const messageId = createMessageId(connector.id, valid.dedupKey);
  const claimToken = crypto.randomUUID();
  const logFields = { connectorId: connector.id, messageId, instanceId: messageId };

  const claim = await claimOrWaitForDuplicate(connector.id, messageId, claimToken, valid.dedupKey, dependencies);
  if (claim.status === 'exists') {
    if (claim.message.claimState === 'accepted') {
      logger.info(logFields, 'duplicate message acknowledged');
      return messageIdResponse(200, messageId);
    }
    logger.warn(logFields, 'duplicate message still being received by another request');
    return temporarilyUnavailable(`Message ${messageId} is still being received from an earlier request. Send it again in a few seconds.`);
  }

  const rawBlobName = rawBlobNameOf(connector.id, messageId);
  let input: ProcessMessageInput;
  try {
    const digest = await payloadStore.put(rawBlobName, valid.bytes, { contentType: valid.contentType });
    input = {
      messageId,
      connectorId: connector.id,
      rawBlobName,
      receivedAt: claim.message.receivedAt,
      contentType: valid.contentType,
      sizeInBytes: digest.sizeInBytes,
      sha256: digest.sha256,
    };
    const alreadyStarted = claim.takenOver && (await instanceExists(starter, messageId));
    if (!alreadyStarted) {
      await starter.startNew(processMessageOrchestrationName, { instanceId: messageId, input });
    }
  } catch (error) {
    trackingStore.releaseClaim(messageId, claimToken);
    logger.error({ ...logFields, error: errorMessageOf(error) }, 'storing or starting the message failed, claim released');
    return temporarilyUnavailable('The message could not be stored or scheduled. Send it again later.');
  }

  const accepted = trackingStore.markAccepted(messageId, claimToken, {
    rawBlobName,
    sizeInBytes: input.sizeInBytes,
    sha256: input.sha256,
    contentType: input.contentType,
  });
  if (!accepted) {
    logger.warn(logFields, 'claim was taken over before it was marked accepted');
  }
  logger.info({ ...logFields, sizeInBytes: input.sizeInBytes, takenOver: claim.takenOver }, 'message accepted');
  return messageIdResponse(202, messageId);
}

/** Returns the problem detail of a rejection, which states the reason without any secret. */
function problemDetailOf(rejection: HttpResponseInit): string | undefined {
  try {
    const problem = JSON.parse(String(rejection.body)) as { title?: string; detail?: string };
    return problem.detail ?? problem.title;
  } catch {
    return undefined;
  }
}

/** Minimum time between two sweeps of messages older than the dedup window. */
const dedupSweepIntervalInMilliseconds = 60_000;
let lastDedupSweepAtInMilliseconds = 0;

/**
 * Deletes the tracking records of messages older than the dedup window, at most once a
 * minute, so that a dedup key seen before the window makes a new message.
 */
function sweepExpiredMessages(dependencies: Dependencies): void {
  const now = dependencies.clock().getTime();
  if (now - lastDedupSweepAtInMilliseconds < dedupSweepIntervalInMilliseconds) {
    return;
  }
  lastDedupSweepAtInMilliseconds = now;
  const windowInMilliseconds = dependencies.settings.dedupWindowInDays * 24 * 60 * 60 * 1000;
  const deleted = dependencies.trackingStore.deleteMessagesOlderThan(new Date(now - windowInMilliseconds));
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

  sweepExpiredMessages(dependencies);
  let claim = dependencies.trackingStore.claimMessage({ ...claimRequest, now: dependencies.clock() });
  for (let poll = 0; poll < maxPolls && claim.status === 'exists' && claim.message.claimState === 'receiving'; poll++) {
    await new Promise((resolve) => setTimeout(resolve, duplicatePollIntervalInMilliseconds));
    claim = dependencies.trackingStore.claimMessage({ ...claimRequest, now: dependencies.clock() });
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

/** Returns true for `application/json` and `application/<subtype>+json`, with or without parameters. */
export function isJsonContentType(contentType: string): boolean {
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9!#$&^_.-]+\+json$/.test(mediaType);
}

function messageIdResponse(status: 200 | 202, messageId: string): HttpResponseInit {
  return {
    status,
    headers: { 'Content-Type': 'application/json', Location: `${messageStatusPathPrefix}${messageId}` },
    body: JSON.stringify({ messageId }),
  };
}

function payloadTooLarge(sizeInBytes: number, maxBodyBytes: number): HttpResponseInit {
  return problemResponse({
    type: problemTypes.payloadTooLarge,
    title: 'Payload too large',
    status: 413,
    detail: `The request body has ${sizeInBytes} bytes and this connector accepts at most ${maxBodyBytes}. Send a smaller payload.`,
  });
}

function temporarilyUnavailable(detail: string): HttpResponseInit {
  return problemResponse(
    { type: problemTypes.temporarilyUnavailable, title: 'Temporarily unavailable', status: 503, detail },
    { 'Retry-After': '5' },
  );
}

app.http(ingestMessageFunctionName, {
  methods: ['POST'],
  route: 'connectors/{connectorId}/messages',
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) => ingestMessage(request, df.getClient(context)),
});
