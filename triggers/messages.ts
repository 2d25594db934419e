import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { listMessagesFunctionName } from '../lib/functionNames';
import { parseMessageListQuery } from '../lib/http/messageListQuery';
import { handleWithRequestId } from '../lib/http/requestId';
import type { MessageRecord } from '../lib/tracking/types';

/** Shown in place of entity keys and versions of connectors that redact payload fields, because the list does not read payloads. */
const redactedValue = '[redacted]';

/**
 * Lists messages newest first, with filters on connector, outcome, entity key, dedup key,
 * destination and receive time, and keyset paging by `continuationToken`. Each entry is a
 * summary; `GET /api/messages/{messageId}` has the whole story.
 */
export async function listMessages(request: HttpRequest, dependencies: Dependencies = getDependencies()): Promise<HttpResponseInit> {
  const parsed = parseMessageListQuery(request);
  if (parsed.rejection !== undefined) {
    return parsed.rejection;
  }

  const page = await dependencies.trackingStore.listMessages(parsed.query);
  const body = {
    messages: page.messages.map((message) => toSummary(message, dependencies)),
    continuationToken: page.continuationToken ?? null,
  };
  const text = dependencies.trackingStore.scrubAuditText(JSON.stringify(body));
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: text };
}

function toSummary(message: MessageRecord, dependencies: Dependencies): Record<string, unknown> {
  const redacts = (dependencies.connectors.byId.get(message.connectorId)?.redact?.length ?? 0) > 0;
  let entityKey: string | null = message.entity?.key ?? null;
  let entityVersion: unknown = message.entity?.version ?? null;
  if (redacts && entityKey !== null) {
    entityKey = redactedValue;
  }
  if (redacts && entityVersion !== null) {
    entityVersion = redactedValue;
  }
  return {
    messageId: message.messageId,
    connectorId: message.connectorId,
    receivedAt: message.receivedAt,
    outcome: message.outcome ?? 'pending',
    outcomeReason: message.outcomeReason ?? null,
    completedAt: message.completedAt ?? null,
    entityType: message.entity?.type ?? null,
    entityKey,
    entityVersion,
    sizeInBytes: message.sizeInBytes ?? null,
    contentType: message.contentType ?? null,
    replayOf: message.replayOf ?? null,
  };
}

app.http(listMessagesFunctionName, {
  methods: ['GET'],
  route: 'messages',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => listMessages(request, dependencies), { logRejection: true }),
});
