import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Dependencies } from '../dependencies';

export const requestIdHeader = 'x-request-id';

/**
 * A caller's `x-request-id` is used only when it is 1 to 128 letters, digits or `.`, `_`, `:`,
 * `-`, so that it cannot forge a log field or fill a log line.
 */
const safeRequestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** Returns the caller's `x-request-id` when it is a safe token, and otherwise the Functions invocation id. */
export function resolveRequestId(request: HttpRequest, context: InvocationContext): string {
  const incoming = request.headers.get(requestIdHeader)?.trim();
  if (incoming !== undefined && safeRequestIdPattern.test(incoming)) {
    return incoming;
  }
  return context.invocationId;
}

export interface RequestIdOptions {
  /** Logs each problem response with its status and type, for handlers that do not log their own rejections. */
  logRejection?: boolean;
}

/**
 * Runs an HTTP handler with a logger that adds `requestId` to each of its lines, and adds the
 * same `requestId` to the body of a problem response. Other responses are returned unchanged.
 */
export async function handleWithRequestId(
  request: HttpRequest,
  context: InvocationContext,
  dependencies: Dependencies,
  handle: (dependencies: Dependencies) => Promise<HttpResponseInit>,
  options: RequestIdOptions = {},
): Promise<HttpResponseInit> {
  const requestId = resolveRequestId(request, context);
  const logger = dependencies.logger.child({ requestId });
  const response = addRequestId(await handle({ ...dependencies, logger }), requestId);
  if (options.logRejection === true && isProblemResponse(response)) {
    const problem = JSON.parse(response.body as string) as { type?: string };
    logger.info({ functionName: context.functionName, status: response.status, type: problem.type }, 'request rejected');
  }
  return response;
}

function isProblemResponse(response: HttpResponseInit): boolean {
  const headers = (response.headers ?? {}) as Record<string, string>;
  return headers['Content-Type'] === 'application/problem+json' && typeof response.body === 'string';
}

/** Adds `requestId` to an `application/problem+json` body. */
export function addRequestId(response: HttpResponseInit, requestId: string): HttpResponseInit {
  if (!isProblemResponse(response)) {
    return response;
  }
  const problem = JSON.parse(response.body as string) as Record<string, unknown>;
  return { ...response, body: JSON.stringify({ ...problem, requestId }) };
}
