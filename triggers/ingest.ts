import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { Connector } from '../lib/config/types';
import { checkInboundAuthentication } from '../lib/auth/checkInboundAuthentication';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { ingestMessageFunctionName } from '../lib/functionNames';
import { problemResponse, problemTypes } from '../lib/http/problem';
import { handleWithRequestId } from '../lib/http/requestId';
import type { OrchestrationStarter } from '../lib/ingest/acceptMessage';
import { admitPayload } from '../lib/ingest/admitPayload';
import type { ReceivedPayload } from '../lib/ingest/checkPayload';
import { admitInboundRequest } from '../lib/limits/admitInboundRequest';

export type { OrchestrationStarter } from '../lib/ingest/acceptMessage';
export { isJsonContentType } from '../lib/encoding/mediaType';

/** `logged` is true when the check that rejected the request has already logged why. */
type Validation = { rejection: HttpResponseInit; logged: boolean; request?: undefined } | { rejection?: undefined; request: ReceivedPayload };

/**
 * Accepts one inbound message for a connector. The connector's rate limit (429), concurrent
 * request limit (503), size limit and signature are checked here. `admitPayload` then checks
 * content type, content coding, decoded size, JSON syntax and JSON Schema. Finally the message
 * id is claimed, the raw bytes are stored, `processMessage` starts, and the response is 202 with
 * the message id. A duplicate of an accepted message gets 200 with the same id. A
 * payload that fails the schema is kept in quarantine and gets 422. Any other rejected
 * request stores and starts nothing.
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

  // Key Vault secrets are read again once their time to live has passed. Otherwise this returns at once.
  await dependencies.secretStore?.ready();

  // The limits come before the body is read, so a rejected request costs no authentication work.
  const limitAdmission = admitInboundRequest(connector, dependencies.connectors, dependencies.clock());
  if (limitAdmission.rejection !== undefined) {
    logRejection(request, connector, limitAdmission.rejection, dependencies);
    return limitAdmission.rejection;
  }
  try {
    return await ingestAdmittedRequest(request, connector, starter, dependencies);
  } finally {
    limitAdmission.release();
  }
}

async function ingestAdmittedRequest(request: HttpRequest, connector: Connector, starter: OrchestrationStarter, dependencies: Dependencies): Promise<HttpResponseInit> {
  const validation = await validateRequest(request, connector, dependencies);
  if (validation.rejection !== undefined) {
    if (!validation.logged) {
      logRejection(request, connector, validation.rejection, dependencies);
    }
    return validation.rejection;
  }

  const admission = await admitPayload(connector, validation.request, starter, dependencies, { onSchemaViolation: 'quarantine' });
  if (admission.outcome === 'rejected') {
    logRejection(request, connector, admission.response, dependencies);
  }
  return admission.response;
}

function logRejection(request: HttpRequest, connector: Connector, rejection: HttpResponseInit, dependencies: Dependencies): void {
  dependencies.logger.info(
    { connectorId: connector.id, status: rejection.status, reason: problemDetailOf(rejection), dedupKey: connector.dedupKey ? (request.headers.get(connector.dedupKey.header) ?? undefined) : undefined },
    'inbound request rejected',
  );
}

/** Returns the request's bytes, content type, Content-Encoding and dedup key, or the problem response that rejects it. */
async function validateRequest(request: HttpRequest, connector: Connector, dependencies: Dependencies): Promise<Validation> {
  const maxBodyBytes = connector.inbound.maxBodyBytes;
  const declaredLength = Number(request.headers.get('content-length') ?? '0');
  if (declaredLength > maxBodyBytes) {
    return { rejection: payloadTooLarge(declaredLength, maxBodyBytes), logged: false };
  }
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.byteLength > maxBodyBytes) {
    return { rejection: payloadTooLarge(bytes.byteLength, maxBodyBytes), logged: false };
  }

  const authRejection = checkInboundAuthentication(request, bytes, connector, dependencies);
  if (authRejection !== undefined) {
    return { rejection: authRejection, logged: true };
  }

  const contentType = request.headers.get('content-type') ?? '';
  const contentEncodingHeader = request.headers.get('content-encoding');
  const dedupKey = connector.dedupKey === undefined ? undefined : request.headers.get(connector.dedupKey.header)?.trim();
  return { request: { bytes, contentType, contentEncodingHeader, dedupKey: dedupKey === '' ? undefined : dedupKey, headers: request.headers } };
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

function payloadTooLarge(sizeInBytes: number, maxBodyBytes: number): HttpResponseInit {
  return problemResponse({
    type: problemTypes.payloadTooLarge,
    title: 'Payload too large',
    status: 413,
    detail: `The request body has ${sizeInBytes} bytes and this connector accepts at most ${maxBodyBytes}. Send a smaller payload.`,
  });
}

app.http(ingestMessageFunctionName, {
  methods: ['POST'],
  route: 'connectors/{connectorId}/messages',
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => ingestMessage(request, df.getClient(context), dependencies)),
});
