import type { ManagementRequest } from './managementRequest';
import { InvalidRequestError, readSecondsParameter, validateInstanceId } from './queryParameters';

/** `POST orchestrators/{name}[/{instanceId}]`: starts an orchestration. */

/**
 * Responds to a request that started `instanceId`. Without `timeout` and `pollingInterval`
 * (seconds), it returns 202 with the management payload. With both, as in
 * `createAndWaitOnNewInstancePostUri`, it waits up to `timeout` for the instance to finish. It then
 * returns the output of a completed instance (200), the status of a failed or terminated one, or
 * the management payload (202) when the wait ended first.
 */
export async function respondToStartedInstance(request: ManagementRequest, instanceId: string): Promise<void> {
  const timeoutInSeconds = readSecondsParameter(request.url, 'timeout');
  const pollingIntervalInSeconds = readSecondsParameter(request.url, 'pollingInterval');
  if (timeoutInSeconds === undefined || pollingIntervalInSeconds === undefined) {
    request.sendCheckStatusResponse(instanceId);
    return;
  }
  if (pollingIntervalInSeconds > timeoutInSeconds) {
    throw new InvalidRequestError(`The pollingInterval of ${pollingIntervalInSeconds} seconds is longer than the timeout of ${timeoutInSeconds} seconds. Use a shorter interval.`);
  }

  const status = await request.engine.waitForCompletion(instanceId, timeoutInSeconds * 1000);
  switch (status?.runtimeStatus) {
    case 'Completed':
      request.sendJson(200, status.output ?? null);
      return;
    case 'Failed':
    case 'Terminated':
      request.sendInstanceStatus(status);
      return;
    default:
      request.sendCheckStatusResponse(instanceId);
  }
}

/**
 * Starts orchestrator `name` with the JSON body as input (none for an empty body), under
 * `instanceId` or a new id. Rejects an unknown orchestrator or an invalid id with 400, and an id
 * whose instance is still running with 409. `durable-functions` posts the body `""` when
 * `startNew` has no input, and that starts the instance with the empty string as input, as in the
 * Durable Functions extension.
 */
export async function startOrchestration(request: ManagementRequest, name: string, instanceId: string | undefined): Promise<void> {
  if (!request.engine.hasOrchestration(name)) {
    throw new InvalidRequestError(`No orchestrator function named "${name}" is registered. Check the name in the URL against the app's orchestrators.`);
  }
  if (instanceId !== undefined) {
    validateInstanceId(instanceId);
  }
  const input = await request.readJsonBody();

  const result = await request.engine.startOrchestration(name, instanceId, input);
  if (!result.created) {
    request.sendProblem(409, 'instance-exists', 'Instance already exists', `An instance with id "${result.instanceId}" is not in a terminal state, so it was not replaced: ${result.reason}`);
    return;
  }
  request.logger.debug({ functionName: name, instanceId: result.instanceId }, 'orchestration scheduled through the management API');
  await respondToStartedInstance(request, result.instanceId);
}
