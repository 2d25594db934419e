import { hostEnvironmentNames } from '../settings';
import { readPresentedKey, unauthorizedProblem } from '../http/authorization';
import type { HostExchangeRequest, HostExchangeResponse } from '../http/hostExchange';
import { problemType } from '../http/problem';
import { RequestBodyTooLargeError } from '../http/requestBody';
import type { ManagementRequestHandler } from '../http/server';
import { keyMatches } from '../keys';
import { listEntitiesOfName, readEntityState, signalEntity } from './entityRoutes';
import { getInstanceStatus, listInstances, purgeInstance, purgeInstances, raiseEvent, runInstanceOperation } from './instanceRoutes';
import { ManagementRequest, type ManagementApiOptions } from './managementRequest';
import { startOrchestration } from './orchestratorRoutes';
import { InvalidRequestError } from './queryParameters';

/**
 * The Durable Functions HTTP management API under `/runtime/webhooks/durabletask/`, with the
 * routes, query parameters and status codes of the Durable Functions extension, so that
 * `durable-functions`' client and its management URLs work unchanged. Every route needs the
 * host key (the system key in Azure).
 */

function sendMethodNotAllowed(request: ManagementRequest, allowedMethods: string[]): void {
  request.sendProblemResponse({
    status: 405,
    type: problemType('method-not-allowed'),
    title: 'Method not allowed',
    detail: `${request.method} is not allowed for ${request.url.pathname}. Allowed methods: ${allowedMethods.join(', ')}.`,
    headers: { Allow: allowedMethods.join(', ') },
  });
}

/** Serves `instances/...`, or returns false when no route matches. */
async function routeInstances(request: ManagementRequest, rest: string[]): Promise<boolean> {
  const method = request.method;
  const [instanceId, operation, eventName] = rest;
  if (rest.length === 0 || rest.length === 1) {
    if (method === 'GET') {
      await (instanceId === undefined ? listInstances(request) : getInstanceStatus(request, instanceId));
    } else if (method === 'DELETE') {
      await (instanceId === undefined ? purgeInstances(request) : purgeInstance(request, instanceId));
    } else {
      sendMethodNotAllowed(request, ['GET', 'DELETE']);
    }
    return true;
  }
  const isRaiseEvent = rest.length === 3 && operation.toLowerCase() === 'raiseevent';
  if (rest.length !== 2 && !isRaiseEvent) {
    return false;
  }
  if (method !== 'POST') {
    sendMethodNotAllowed(request, ['POST']);
    return true;
  }
  if (isRaiseEvent) {
    await raiseEvent(request, instanceId, eventName);
    return true;
  }
  return runInstanceOperation(request, instanceId, operation);
}

/** Serves `entities/...`, or returns false when no route matches. */
async function routeEntities(request: ManagementRequest, rest: string[]): Promise<boolean> {
  const method = request.method;
  const names = rest.filter((segment) => segment !== '');
  if (names.length <= 1 && rest.length <= 1 && method === 'GET') {
    await listEntitiesOfName(request, names[0]);
    return true;
  }
  if (rest.length !== 2) {
    return false;
  }
  const [name, key] = rest;
  if (method === 'GET') {
    await readEntityState(request, name, key);
  } else if (method === 'POST' || method === 'DELETE') {
    await signalEntity(request, name, key);
  } else {
    sendMethodNotAllowed(request, ['GET', 'POST', 'DELETE']);
  }
  return true;
}

async function route(request: ManagementRequest, pathSegments: string[]): Promise<boolean> {
  const [collection, ...rest] = pathSegments;
  switch (collection?.toLowerCase()) {
    case 'orchestrators':
      if (rest.length !== 1 && rest.length !== 2) {
        return false;
      }
      if (request.method !== 'POST') {
        sendMethodNotAllowed(request, ['POST']);
        return true;
      }
      await startOrchestration(request, rest[0], rest[1]);
      return true;
    case 'instances':
      return routeInstances(request, rest);
    case 'entities':
      return routeEntities(request, rest);
    default:
      return false;
  }
}

function sendRequestError(request: ManagementRequest, error: unknown): boolean {
  if (error instanceof InvalidRequestError) {
    request.sendProblemResponse({ status: 400, type: problemType('invalid-management-request'), title: 'Invalid management request', detail: error.message });
    return true;
  }
  if (error instanceof RequestBodyTooLargeError) {
    request.sendProblemResponse({
      status: 413,
      type: problemType('request-body-too-large'),
      title: 'Request body too large',
      detail: `The request body is larger than the host limit of ${error.maxBodyBytes} bytes. Send a smaller body, or raise the setting ${hostEnvironmentNames.maxRequestBodyBytes}.`,
      headers: { Connection: 'close' },
    });
    return true;
  }
  return false;
}

/**
 * Creates the handler that serves one management API request, given the path segments after
 * `/runtime/webhooks/durabletask`. The HTTP server and the in-process durable client adapter
 * both call it.
 */
export function createManagementHandler(options: ManagementApiOptions): ManagementRequestHandler {
  return async (exchange: HostExchangeRequest, pathSegments: string[]): Promise<HostExchangeResponse> => {
    const request = new ManagementRequest(options, exchange);
    await serve(options, request, pathSegments);
    if (request.response === undefined) {
      throw new Error(`Internal error: the management route for ${exchange.method} ${exchange.url.pathname} sent no response.`);
    }
    return request.response;
  };
}

async function serve(options: ManagementApiOptions, request: ManagementRequest, pathSegments: string[]): Promise<void> {
  const { method, url } = request;
  if (!keyMatches(readPresentedKey(request, url), options.hostKey)) {
    options.logger.info({ method, path: url.pathname }, 'management request rejected: missing or invalid key');
    request.sendProblemResponse(unauthorizedProblem('The Durable Functions management API'));
    return;
  }
  const taskHub = url.searchParams.get('taskHub');
  if (taskHub && taskHub.toLowerCase() !== options.engine.taskHubName.toLowerCase()) {
    request.sendProblem(400, 'unknown-task-hub', 'Unknown task hub', `This host serves task hub ${options.engine.taskHubName}, not ${taskHub}. Remove the taskHub parameter or set it to ${options.engine.taskHubName}.`);
    return;
  }

  options.logger.debug({ method, path: url.pathname }, 'management request received');
  try {
    if (!(await route(request, pathSegments))) {
      request.sendProblem(404, 'management-route-not-found', 'Management route not found', `${method} ${url.pathname} is not a route of the Durable Functions management API.`);
    }
  } catch (error) {
    if (!sendRequestError(request, error)) {
      throw error;
    }
  }
}
