import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { listQuarantineFunctionName, readQuarantinedFunctionName, releaseQuarantinedFunctionName } from '../lib/functionNames';
import { problemResponse, problemTypes } from '../lib/http/problem';
import { handleWithRequestId } from '../lib/http/requestId';
import type { OrchestrationStarter } from '../lib/ingest/acceptMessage';
import { admitPayload } from '../lib/ingest/admitPayload';
import { isQuarantineId } from '../lib/quarantine/quarantineIds';
import type { QuarantinedPayload } from '../lib/quarantine/types';

export const defaultQuarantineTop = 100;
export const maxQuarantineTop = 1000;

/**
 * Lists quarantined payloads, newest first: their metadata and reason, never their bytes.
 * `connectorId` filters by connector and `top` sets the maximum number listed.
 */
export async function listQuarantine(request: HttpRequest, dependencies: Dependencies = getDependencies()): Promise<HttpResponseInit> {
  const topText = request.query.get('top');
  const top = topText === null ? defaultQuarantineTop : Number(topText);
  if (!/^\d{1,4}$/.test(topText ?? '1') || top < 1 || top > maxQuarantineTop) {
    return problemResponse({
      type: problemTypes.invalidParameter,
      title: 'Invalid query parameter',
      status: 400,
      detail: `Query parameter top is "${topText ?? ''}", but it must be an integer from 1 to ${maxQuarantineTop}.`,
    });
  }

  const connectorId = request.query.get('connectorId') ?? undefined;
  const payloads = await dependencies.quarantineStore.list({ connectorId: connectorId === '' ? undefined : connectorId, top });
  return jsonResponse(200, { payloads: payloads.map(toSummary) });
}

/** Returns one quarantined payload with its reason, its schema errors and its audit trail. */
export async function readQuarantined(quarantineId: string, dependencies: Dependencies = getDependencies()): Promise<HttpResponseInit> {
  const entry = await findQuarantined(quarantineId, dependencies);
  if (entry === undefined) {
    return quarantineNotFound(quarantineId);
  }
  const audit = (await dependencies.trackingStore.listAudit(quarantineId)).map(({ at, step, detail }) => ({ at, step, detail }));
  return jsonResponse(200, { ...toSummary(entry), errors: entry.errors, audit });
}

/**
 * Validates a quarantined payload against the connector's current configuration and, when it
 * passes, ingests it as a message through the same steps as a partner's request after
 * authentication. Responds with 202 and the message id, or 200 when its dedup key already
 * belongs to a message. A payload that still fails the schema gets 422 with the errors.
 *
 * A payload that arrived without a dedup key is released under the key `quarantine:<id>`,
 * so that two release requests for it cannot start two messages.
 */
export async function releaseQuarantined(
  quarantineId: string,
  starter: OrchestrationStarter,
  dependencies: Dependencies = getDependencies(),
): Promise<HttpResponseInit> {
  const { logger, trackingStore, quarantineStore } = dependencies;
  const entry = await findQuarantined(quarantineId, dependencies);
  if (entry === undefined) {
    return quarantineNotFound(quarantineId);
  }
  if (entry.state === 'released') {
    return problemResponse({
      type: problemTypes.alreadyReleased,
      title: 'Already released',
      status: 409,
      detail: `Quarantined payload ${quarantineId} was released as message ${entry.messageId ?? 'unknown'} at ${entry.releasedAt ?? 'an unknown time'}. Read that message's status instead.`,
      extensions: { messageId: entry.messageId ?? null },
    });
  }

  const connector = dependencies.connectors.byId.get(entry.connectorId);
  if (connector === undefined) {
    return problemResponse({
      type: problemTypes.unknownConnector,
      title: 'Unknown connector',
      status: 409,
      detail: `Quarantined payload ${quarantineId} belongs to connector "${entry.connectorId}", which is not in the connectors file. Restore the connector, restart the host and release the payload again.`,
    });
  }

  const stored = await dependencies.payloadStore.get(entry.payloadBlobName);
  if (stored === undefined) {
    logger.error({ connectorId: entry.connectorId, quarantineId, payloadBlobName: entry.payloadBlobName }, 'quarantined payload is missing from the payload store');
    return problemResponse({
      type: problemTypes.payloadMissing,
      title: 'Payload missing',
      status: 500,
      detail: `The bytes of quarantined payload ${quarantineId} (${entry.payloadBlobName}) are missing from the payload store. Check the payload store settings and retention rules.`,
    });
  }

  const received = {
    bytes: stored.bytes,
    contentType: entry.contentType,
    contentEncodingHeader: entry.contentEncoding,
    dedupKey: entry.dedupKey ?? `quarantine:${quarantineId}`,
  };
  const admission = await admitPayload(connector, received, starter, dependencies, { onSchemaViolation: 'report' });
  const logFields = { connectorId: connector.id, quarantineId, outcome: admission.outcome };
  if (admission.outcome !== 'accepted' && admission.outcome !== 'duplicate') {
    logger.info({ ...logFields, status: admission.response.status }, 'quarantined payload not released');
    return admission.response;
  }

  const releasedAt = dependencies.clock();
  const marked = await quarantineStore.markReleased(quarantineId, admission.messageId, releasedAt);
  await trackingStore.appendAudit({
    messageId: quarantineId,
    at: releasedAt.toISOString(),
    step: 'released',
    detail: { messageId: admission.messageId, duplicate: admission.outcome === 'duplicate' },
  });
  if (admission.outcome === 'accepted') {
    await trackingStore.appendAudit({ messageId: admission.messageId, at: releasedAt.toISOString(), step: 'releasedFromQuarantine', detail: { quarantineId } });
  }
  logger.info({ ...logFields, messageId: admission.messageId, instanceId: admission.messageId, marked }, 'quarantined payload released');
  return admission.response;
}

async function findQuarantined(quarantineId: string, dependencies: Dependencies): Promise<QuarantinedPayload | undefined> {
  return isQuarantineId(quarantineId) ? await dependencies.quarantineStore.get(quarantineId) : undefined;
}

function toSummary(entry: QuarantinedPayload): Record<string, unknown> {
  return {
    quarantineId: entry.quarantineId,
    connectorId: entry.connectorId,
    receivedAt: entry.receivedAt,
    state: entry.state,
    reason: entry.reason,
    errorCount: entry.errors.length,
    sizeInBytes: entry.sizeInBytes,
    sha256: entry.sha256,
    contentType: entry.contentType,
    contentEncoding: entry.contentEncoding ?? null,
    dedupKey: entry.dedupKey ?? null,
    releasedAt: entry.releasedAt ?? null,
    messageId: entry.messageId ?? null,
  };
}

function quarantineNotFound(quarantineId: string): HttpResponseInit {
  return problemResponse({
    type: problemTypes.quarantineNotFound,
    title: 'Quarantined payload not found',
    status: 404,
    detail: `No quarantined payload has the id "${quarantineId}". Use a quarantineId from a 422 response or from GET /api/quarantine.`,
  });
}

function jsonResponse(status: number, body: unknown): HttpResponseInit {
  return { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

app.http(listQuarantineFunctionName, {
  methods: ['GET'],
  route: 'quarantine',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => listQuarantine(request, dependencies), { logRejection: true }),
});

app.http(readQuarantinedFunctionName, {
  methods: ['GET'],
  route: 'quarantine/{quarantineId}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => readQuarantined(request.params.quarantineId ?? '', dependencies), {
      logRejection: true,
    }),
});

app.http(releaseQuarantinedFunctionName, {
  methods: ['POST'],
  route: 'quarantine/{quarantineId}/release',
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(
      request,
      context,
      getDependencies(),
      (dependencies) => releaseQuarantined(request.params.quarantineId ?? '', df.getClient(context), dependencies),
      { logRejection: true },
    ),
});
