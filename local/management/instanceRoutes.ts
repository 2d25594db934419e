import { randomUUID } from 'node:crypto';
import { RewindNotPossibleError, terminalStatuses, type InstanceStatus, type ListPage } from '../durable/types';
import type { ManagementRequest } from './managementRequest';
import { respondToStartedInstance } from './orchestratorRoutes';
import {
  InvalidRequestError,
  readBooleanParameter,
  readDateParameter,
  readPositiveIntegerParameter,
  readRuntimeStatusParameter,
} from './queryParameters';
import { toStatusPayload } from './statusPayload';

/** `instances/...` routes of the management API: status, listing, purge, events and lifecycle operations. */

const continuationTokenHeader = 'x-ms-continuation-token';

function isTerminal(status: InstanceStatus): boolean {
  return terminalStatuses.includes(status.runtimeStatus);
}

/** `GET instances/{id}?showHistory&showHistoryOutput&showInput`. */
export async function getInstanceStatus(request: ManagementRequest, instanceId: string): Promise<void> {
  const status = await request.engine.getStatus(instanceId, {
    showHistory: readBooleanParameter(request.url, 'showHistory', false),
    showHistoryOutput: readBooleanParameter(request.url, 'showHistoryOutput', false),
    showInput: readBooleanParameter(request.url, 'showInput', true),
  });
  if (!status) {
    request.sendInstanceNotFound(instanceId);
    return;
  }
  request.sendInstanceStatus(status);
}

/**
 * `GET instances/` with filters and paging: `top` sets the page size, and the
 * `x-ms-continuation-token` header carries the position from one page to the next. The last page
 * has no token.
 */
export async function listInstances(request: ManagementRequest): Promise<void> {
  const tokenHeader = request.headers[continuationTokenHeader];
  const continuationToken = typeof tokenHeader === 'string' && tokenHeader !== '' ? tokenHeader : undefined;
  const filter = {
    runtimeStatus: readRuntimeStatusParameter(request.url),
    createdTimeFrom: readDateParameter(request.url, 'createdTimeFrom'),
    createdTimeTo: readDateParameter(request.url, 'createdTimeTo'),
    instanceIdPrefix: request.url.searchParams.get('instanceIdPrefix') || undefined,
    top: readPositiveIntegerParameter(request.url, 'top'),
    continuationToken,
    showInput: readBooleanParameter(request.url, 'showInput', true),
  };
  let page: ListPage;
  try {
    page = await request.engine.listInstances(filter);
  } catch (error) {
    // The engine raises RangeError for a token it did not issue.
    if (continuationToken !== undefined && error instanceof RangeError) {
      throw new InvalidRequestError(error.message);
    }
    throw error;
  }
  const headers: Record<string, string> = page.continuationToken ? { [continuationTokenHeader]: page.continuationToken } : {};
  request.sendJson(200, page.instances.map(toStatusPayload), headers);
}

/**
 * `DELETE instances/{id}`: deletes a terminal orchestration instance and its history. An
 * instance that is still running is kept (412). Ids starting with `@` are entities, which the
 * extension purges without the status check.
 */
export async function purgeInstance(request: ManagementRequest, instanceId: string): Promise<void> {
  if (!instanceId.startsWith('@')) {
    const status = await request.engine.getStatus(instanceId, { showInput: false });
    if (!status) {
      request.sendInstanceNotFound(instanceId);
      return;
    }
    if (!isTerminal(status)) {
      request.sendProblem(412, 'instance-not-terminal', 'Instance not in a terminal state', `Instance "${instanceId}" has status ${status.runtimeStatus}. Only completed, failed or terminated instances can be purged: terminate it first.`);
      return;
    }
  }
  const instancesDeleted = await request.engine.purgeInstance(instanceId);
  await request.engine.durable();
  if (instancesDeleted === 0) {
    request.sendInstanceNotFound(instanceId);
    return;
  }
  request.sendJson(200, { instancesDeleted });
}

/** `DELETE instances/?createdTimeFrom=&createdTimeTo=&runtimeStatus=`: 200 with the count, or 404 when nothing matched. */
export async function purgeInstances(request: ManagementRequest): Promise<void> {
  const createdTimeFrom = readDateParameter(request.url, 'createdTimeFrom');
  if (!createdTimeFrom) {
    throw new InvalidRequestError('Purging instances by filter needs the query parameter createdTimeFrom, such as createdTimeFrom=2024-05-01T00:00:00Z.');
  }
  const instancesDeleted = await request.engine.purgeInstances({
    createdTimeFrom,
    createdTimeTo: readDateParameter(request.url, 'createdTimeTo') ?? new Date(),
    runtimeStatus: readRuntimeStatusParameter(request.url),
  });
  await request.engine.durable();
  if (instancesDeleted === 0) {
    request.sendProblem(404, 'no-instances-matched', 'No instances matched', 'No instance matched the filter, so none was purged.');
    return;
  }
  request.sendJson(200, { instancesDeleted });
}

/**
 * `POST instances/{id}/raiseEvent/{eventName}` with a JSON body (`Content-Type:
 * application/json`). An empty body raises the event with null data. 404 for an unknown
 * instance, 410 for a terminal one.
 */
export async function raiseEvent(request: ManagementRequest, instanceId: string, eventName: string): Promise<void> {
  const status = await request.engine.getStatus(instanceId, { showInput: false });
  if (!status) {
    request.sendInstanceNotFound(instanceId);
    return;
  }
  if (isTerminal(status)) {
    request.sendEmpty(410);
    return;
  }
  const body = await request.readBody();
  let data: unknown = null;
  if (body.toString('utf8').trim() !== '') {
    if (!request.hasJsonContentType()) {
      throw new InvalidRequestError('The event data must be JSON. Send it with Content-Type: application/json.');
    }
    try {
      data = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new InvalidRequestError(`The event data is not valid JSON: ${(error as Error).message}.`);
    }
  }

  const result = await request.engine.raiseEvent(instanceId, eventName, data);
  await request.engine.durable();
  if (result === 'notFound') {
    request.sendInstanceNotFound(instanceId);
    return;
  }
  request.sendEmpty(result === 'notRunning' ? 410 : 202);
}

/**
 * Terminates, suspends or resumes an instance: 202 when the request is accepted (also when the
 * instance is already suspended or running, as in the extension), 404 when it does not exist,
 * 410 when it is in a terminal state.
 */
async function changeInstanceState(request: ManagementRequest, instanceId: string, operation: 'terminate' | 'suspend' | 'resume'): Promise<void> {
  const reason = request.url.searchParams.get('reason') ?? '';
  let result: string;
  switch (operation) {
    case 'terminate':
      result = await request.engine.terminate(instanceId, reason);
      break;
    case 'suspend':
      result = await request.engine.suspend(instanceId, reason);
      break;
    case 'resume':
      result = await request.engine.resume(instanceId, reason);
      break;
  }
  await request.engine.durable();
  if (result === 'notFound') {
    request.sendInstanceNotFound(instanceId);
    return;
  }
  if (result === 'notRunning' || result === 'notSuspended') {
    const status = await request.engine.getStatus(instanceId, { showInput: false });
    request.sendEmpty(!status || isTerminal(status) ? 410 : 202);
    return;
  }
  request.logger.debug({ instanceId, operation }, 'instance operation accepted through the management API');
  request.sendEmpty(202);
}

/**
 * `POST instances/{id}/restart[?restartWithNewInstanceId=false]`: starts the same orchestrator
 * with the same input, under a new id unless the parameter is false.
 */
async function restartInstance(request: ManagementRequest, instanceId: string): Promise<void> {
  const status = await request.engine.getStatus(instanceId, { showInput: true });
  if (!status) {
    throw new InvalidRequestError(`No orchestration instance with id "${instanceId}" exists, so it cannot be restarted.`);
  }
  const newInstanceId = readBooleanParameter(request.url, 'restartWithNewInstanceId', true) ? randomUUID().replace(/-/g, '') : instanceId;
  const result = await request.engine.startOrchestration(status.name, newInstanceId, status.input ?? undefined);
  if (!result.created) {
    request.sendProblem(409, 'instance-exists', 'Instance already exists', `Instance "${newInstanceId}" is not in a terminal state, so it was not restarted: ${result.reason}`);
    return;
  }
  await respondToStartedInstance(request, result.instanceId);
}

/**
 * `POST instances/{id}/rewind?reason=`: runs the task whose failure failed the instance again.
 * 202 when rewound, 404 for an unknown instance, 412 when the instance has not failed, 409 when
 * its failure cannot be rewound.
 */
async function rewindInstance(request: ManagementRequest, instanceId: string): Promise<void> {
  const reason = request.url.searchParams.get('reason') ?? '';
  let result: 'rewound' | 'notFound' | 'notFailed';
  try {
    result = await request.engine.rewind(instanceId, reason);
  } catch (error) {
    if (error instanceof RewindNotPossibleError) {
      request.sendProblem(409, 'rewind-not-possible', 'Rewind not possible', error.message);
      return;
    }
    throw error;
  }
  await request.engine.durable();
  if (result === 'notFound') {
    request.sendInstanceNotFound(instanceId);
    return;
  }
  if (result === 'notFailed') {
    const status = await request.engine.getStatus(instanceId, { showInput: false });
    request.sendProblem(412, 'instance-not-failed', 'Instance not failed', `Instance "${instanceId}" has status ${status?.runtimeStatus}, but only failed instances can be rewound.`);
    return;
  }
  request.sendEmpty(202);
}

/** Runs `POST instances/{id}/{operation}` for terminate, suspend, resume, restart and rewind (any case). Returns false for another operation. */
export async function runInstanceOperation(request: ManagementRequest, instanceId: string, operation: string): Promise<boolean> {
  switch (operation.toLowerCase()) {
    case 'terminate':
    case 'suspend':
    case 'resume':
      await changeInstanceState(request, instanceId, operation.toLowerCase() as 'terminate' | 'suspend' | 'resume');
      return true;
    case 'restart':
      await restartInstance(request, instanceId);
      return true;
    case 'rewind':
      await rewindInstance(request, instanceId);
      return true;
    default:
      return false;
  }
}
