import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { errorMessageOf } from '../lib/errors';
import { replayMessageFunctionName } from '../lib/functionNames';
import { readOperator } from '../lib/http/operatorIdentity';
import { problemResponse, problemTypes } from '../lib/http/problem';
import { handleWithRequestId } from '../lib/http/requestId';
import { isMessageId } from '../lib/ids';
import type { OrchestrationStarter } from '../lib/ingest/acceptMessage';
import { parseReplayBody, unknownDestination } from '../lib/http/operatorRequestBody';
import { startReplay, type ReplayRefusal } from '../lib/replay/startReplay';

/** Path of the message status endpoint, under the `api` route prefix of host.json. */
const messageStatusPathPrefix = '/api/messages/';

/**
 * Replays one message as a new message linked to it, for the operator named by
 * `x-ms-client-principal-name`. Responds with 202 and the new message id, or with a problem when
 * the body is invalid (400), the message is unknown (404), still processing (409) or its raw
 * payload is gone (410).
 */
export async function replayMessage(
  request: HttpRequest,
  originalMessageId: string,
  starter: OrchestrationStarter,
  dependencies: Dependencies = getDependencies(),
): Promise<HttpResponseInit> {
  const parsed = parseReplayBody(await request.text());
  if (parsed.rejection !== undefined) {
    return parsed.rejection;
  }
  if (!isMessageId(originalMessageId)) {
    return toProblem({ refusal: 'messageNotFound', detail: `No message has the id "${originalMessageId}". Use a messageId from GET /api/messages.` });
  }

  const operator = readOperator(request);
  let result;
  try {
    result = await startReplay({ originalMessageId, operator, ...parsed.body }, starter, dependencies);
  } catch (error) {
    dependencies.logger.error({ messageId: originalMessageId, error: errorMessageOf(error) }, 'replay could not be started');
    return problemResponse(
      { type: problemTypes.temporarilyUnavailable, title: 'Temporarily unavailable', status: 503, detail: `The replay of message ${originalMessageId} could not be started. Send the request again later.` },
      { 'Retry-After': '5' },
    );
  }
  if (result.outcome === 'refused') {
    return toProblem(result);
  }
  return {
    status: 202,
    headers: { 'Content-Type': 'application/json', Location: `${messageStatusPathPrefix}${result.messageId}` },
    body: JSON.stringify({ messageId: result.messageId, replayOf: originalMessageId, statusUri: `${messageStatusPathPrefix}${result.messageId}` }),
  };
}

function toProblem(refusal: ReplayRefusal): HttpResponseInit {
  switch (refusal.refusal) {
    case 'messageNotFound':
      return problemResponse({ type: problemTypes.messageNotFound, title: 'Message not found', status: 404, detail: refusal.detail });
    case 'connectorRemoved':
      return problemResponse({ type: problemTypes.unknownConnector, title: 'Unknown connector', status: 409, detail: refusal.detail });
    case 'unknownDestination':
      return unknownDestination(refusal.connectorId, refusal.destinationId, refusal.validDestinationIds);
    case 'payloadGone':
      return problemResponse({ type: problemTypes.payloadGone, title: 'Payload gone', status: 410, detail: refusal.detail });
    case 'stillProcessing':
      return problemResponse({
        type: problemTypes.messageProcessing,
        title: 'Message still processing',
        status: 409,
        detail: refusal.detail,
        extensions: { runtimeStatus: refusal.runtimeStatus },
      });
  }
}

app.http(replayMessageFunctionName, {
  methods: ['POST'],
  route: 'messages/{messageId}/replay',
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => replayMessage(request, request.params.messageId ?? '', df.getClient(context), dependencies), {
      logRejection: true,
    }),
});
