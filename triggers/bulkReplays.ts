import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { errorMessageOf } from '../lib/errors';
import { bulkReplayOrchestrationName, cancelBulkReplayFunctionName, readBulkReplayFunctionName, startBulkReplayFunctionName } from '../lib/functionNames';
import { readOperator } from '../lib/http/operatorIdentity';
import { problemResponse, problemTypes } from '../lib/http/problem';
import { handleWithRequestId } from '../lib/http/requestId';
import type { OrchestrationStarter } from '../lib/ingest/acceptMessage';
import type { BulkReplayInput } from '../lib/replay/bulkReplayContracts';
import { createBulkReplayId, isBulkReplayId } from '../lib/replay/replayIds';
import { parseBulkReplayBody, parseReasonBody } from '../lib/http/operatorRequestBody';
import type { BulkReplayRecord } from '../lib/tracking/replayStore';

/** Message ids that a dry run returns. */
export const dryRunSampleSize = 20;
/** New message ids, and failures, that the status of a bulk replay lists at most. */
export const maxListedReplayItems = 100;

const bulkReplayPathPrefix = '/api/replays/';

/**
 * Starts a bulk replay of the messages that match a filter, for the operator named by
 * `x-ms-client-principal-name`. A dry run responds with 200, the count and the first ids, and
 * stores nothing. Otherwise the set of messages is fixed now, the `bulkReplay` orchestration
 * replays them at `requestsPerSecond`, and the response is 202 with the replay id.
 */
export async function startBulkReplay(request: HttpRequest, starter: OrchestrationStarter, dependencies: Dependencies = getDependencies()): Promise<HttpResponseInit> {
  const parsed = parseBulkReplayBody(await request.text(), dependencies.connectors);
  if (parsed.rejection !== undefined) {
    return parsed.rejection;
  }
  const { body } = parsed;
  const replays = dependencies.trackingStore.replays;
  if (body.dryRun) {
    const preview = await replays.previewMatching(body.filter, dryRunSampleSize);
    return jsonResponse(200, { dryRun: true, total: preview.total, messageIds: preview.messageIds });
  }

  const operator = readOperator(request);
  const replayId = createBulkReplayId();
  const createdAt = dependencies.clock().toISOString();
  const replay = await replays.createBulkReplay({
    replayId,
    filter: body.filter,
    reason: body.reason,
    operator,
    retransform: body.retransform,
    destinationIds: body.destinationIds,
    requestsPerSecond: body.requestsPerSecond,
    createdAt,
  });
  await dependencies.trackingStore.appendAudit({
    messageId: replayId,
    at: createdAt,
    step: 'bulkReplayStarted',
    detail: { operator, reason: body.reason, filter: body.filter, total: replay.total, requestsPerSecond: body.requestsPerSecond },
  });

  const logFields = { bulkReplayId: replayId, instanceId: replayId, operator, total: replay.total };
  try {
    const input: BulkReplayInput = { replayId, requestsPerSecond: body.requestsPerSecond };
    await starter.startNew(bulkReplayOrchestrationName, { instanceId: replayId, input });
  } catch (error) {
    await replays.finishBulkReplay(replayId, 'failed', dependencies.clock().toISOString(), 'the bulkReplay orchestration could not be started');
    dependencies.logger.error({ ...logFields, error: errorMessageOf(error) }, 'bulk replay could not be started');
    return problemResponse(
      { type: problemTypes.temporarilyUnavailable, title: 'Temporarily unavailable', status: 503, detail: 'The bulk replay could not be started. Send the request again later.' },
      { 'Retry-After': '5' },
    );
  }
  dependencies.logger.info(logFields, 'bulk replay started');
  return jsonResponse(202, { replayId, total: replay.total, statusUri: `${bulkReplayPathPrefix}${replayId}` }, { Location: `${bulkReplayPathPrefix}${replayId}` });
}

/** Returns the state, counts, new message ids (at most 100), failures and audit trail of a bulk replay. */
export async function readBulkReplay(replayId: string, dependencies: Dependencies = getDependencies()): Promise<HttpResponseInit> {
  const replay = await findBulkReplay(replayId, dependencies);
  if (replay === undefined) {
    return replayNotFound(replayId);
  }
  const replayedItems = await dependencies.trackingStore.replays.listItems(replayId, true, maxListedReplayItems);
  const failedItems = await dependencies.trackingStore.replays.listItems(replayId, false, maxListedReplayItems);
  const body = {
    replayId: replay.replayId,
    state: replay.state,
    filter: replay.filter,
    reason: replay.reason,
    operator: replay.operator,
    retransform: replay.retransform,
    destinationIds: replay.destinationIds ?? null,
    requestsPerSecond: replay.requestsPerSecond,
    total: replay.total,
    replayed: replay.replayed,
    failed: replay.failed,
    newMessageIds: replayedItems.map((item) => item.newMessageId),
    failures: failedItems.map((item) => ({ messageId: item.originalMessageId, error: item.error })),
    createdAt: replay.createdAt,
    updatedAt: replay.updatedAt,
    finishedAt: replay.finishedAt ?? null,
    cancelReason: replay.cancelReason ?? null,
    cancelledBy: replay.cancelledBy ?? null,
    error: replay.error ?? null,
    audit: (await dependencies.trackingStore.listAudit(replayId)).map(({ at, step, detail }) => ({ at, step, detail })),
  };
  return jsonResponse(200, body);
}

/** Cancels a running bulk replay; it stops before its next page. A finished one gets 409. */
export async function cancelBulkReplay(request: HttpRequest, replayId: string, dependencies: Dependencies = getDependencies()): Promise<HttpResponseInit> {
  const parsed = parseReasonBody(await request.text());
  if (parsed.rejection !== undefined) {
    return parsed.rejection;
  }
  const replay = await findBulkReplay(replayId, dependencies);
  if (replay === undefined) {
    return replayNotFound(replayId);
  }

  const operator = readOperator(request);
  const at = dependencies.clock().toISOString();
  if (!(await dependencies.trackingStore.replays.cancelBulkReplay(replayId, parsed.body.reason, operator, at))) {
    const current = (await dependencies.trackingStore.replays.getBulkReplay(replayId)) ?? replay;
    return problemResponse({
      type: problemTypes.replayFinished,
      title: 'Bulk replay finished',
      status: 409,
      detail: `Bulk replay ${replayId} is ${current.state} since ${current.finishedAt ?? 'an unknown time'}, so it cannot be cancelled. Read its status with GET ${bulkReplayPathPrefix}${replayId}.`,
      extensions: { state: current.state },
    });
  }
  await dependencies.trackingStore.appendAudit({ messageId: replayId, at, step: 'bulkReplayCancelled', detail: { operator, reason: parsed.body.reason } });
  dependencies.logger.info({ bulkReplayId: replayId, instanceId: replayId, operator }, 'bulk replay cancelled');
  const cancelled = await dependencies.trackingStore.replays.getBulkReplay(replayId);
  return jsonResponse(200, { replayId, state: 'cancelled', replayed: cancelled?.replayed ?? 0, failed: cancelled?.failed ?? 0 });
}

async function findBulkReplay(replayId: string, dependencies: Dependencies): Promise<BulkReplayRecord | undefined> {
  return isBulkReplayId(replayId) ? await dependencies.trackingStore.replays.getBulkReplay(replayId) : undefined;
}

function replayNotFound(replayId: string): HttpResponseInit {
  return problemResponse({
    type: problemTypes.replayNotFound,
    title: 'Bulk replay not found',
    status: 404,
    detail: `No bulk replay has the id "${replayId}". Use the replayId that POST /api/replays returned.`,
  });
}

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

app.http(startBulkReplayFunctionName, {
  methods: ['POST'],
  route: 'replays',
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => startBulkReplay(request, df.getClient(context), dependencies), { logRejection: true }),
});

app.http(readBulkReplayFunctionName, {
  methods: ['GET'],
  route: 'replays/{replayId}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => readBulkReplay(request.params.replayId ?? '', dependencies), { logRejection: true }),
});

app.http(cancelBulkReplayFunctionName, {
  methods: ['POST'],
  route: 'replays/{replayId}/cancel',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => cancelBulkReplay(request, request.params.replayId ?? '', dependencies), {
      logRejection: true,
    }),
});
