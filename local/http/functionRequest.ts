import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Invoker } from '../functionsCore/invoker';
import { logInvocation, type HostLogger } from '../logger';
import { keyMatches } from '../keys';
import { isAuthorized, readPresentedKey, unauthorizedProblem } from './authorization';
import { readBodyWithinLimit } from './endpointBody';
import { problemType, sendProblem } from './problem';
import type { HttpRoute } from './routeTable';
import { findHttpResponse, toRpcHttpTrigger, writeRpcHttpResponse } from './rpcHttp';

export interface FunctionRequestOptions {
  logger: HostLogger;
  invoker: Invoker;
  hostKey: string;
  maxRequestBodyBytes: number;
  /** The `x-ms-client-principal-name` of requests that present the host key, from `resolveOperatorName`. */
  operatorName: string;
}

/**
 * Serves a request that matched the route of an HTTP-triggered function: checks the key for the
 * function's auth level, reads the body up to the host limit, invokes the function and writes its
 * response. A function that throws gets a 500 problem without internals, and the error is logged.
 */
export async function handleFunctionRequest(
  options: FunctionRequestOptions,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: HttpRoute,
  params: Record<string, string>,
): Promise<void> {
  const { fn } = route;
  if (!isAuthorized(route.authLevel, req, url, options.hostKey)) {
    options.logger.info({ functionName: fn.name, method: req.method, path: url.pathname }, 'request rejected: missing or invalid key');
    sendProblem(res, unauthorizedProblem(`Function "${fn.name}" with authLevel ${route.authLevel}`));
    return;
  }

  const body = await readBodyWithinLimit(req, res, options.maxRequestBodyBytes, options.logger);
  if (!body) {
    return;
  }

  // As with App Service authentication, the identity comes from the host, never from the client:
  // a request with the host key acts as the configured operator.
  const principalName = keyMatches(readPresentedKey(req, url), options.hostKey) ? options.operatorName : undefined;
  const invocationId = randomUUID();
  const startTime = performance.now();
  try {
    const result = await options.invoker.invoke(fn, { triggerData: toRpcHttpTrigger(req, url, params, body, principalName), invocationId });
    writeRpcHttpResponse(fn, req, res, findHttpResponse(fn, result.response));
    logInvocation(options.logger, {
      functionName: fn.name,
      invocationId,
      triggerType: fn.trigger.type,
      durationInMilliseconds: performance.now() - startTime,
      outcome: 'succeeded',
      statusCode: res.statusCode,
    });
  } catch (error) {
    logInvocation(options.logger, {
      functionName: fn.name,
      invocationId,
      triggerType: fn.trigger.type,
      durationInMilliseconds: performance.now() - startTime,
      outcome: 'failed',
      error,
    });
    sendProblem(res, {
      status: 500,
      type: problemType('function-failed'),
      title: 'Function failed',
      detail: `Function "${fn.name}" failed in invocation ${invocationId}. The host log contains the error under this invocation id.`,
    });
  }
}
