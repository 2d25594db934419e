import type { RpcTypedData } from '../functionsCore/registry';

/**
 * Endpoints of the Durable Functions management API, in the forms that `durable-functions`
 * reads: the `durableClient` input binding data (with `INSTANCEID` and other placeholders that the
 * client fills in) and the management payload of one instance (`createCheckStatusResponse`).
 */

export const managementBasePath = '/runtime/webhooks/durabletask';
export const instanceIdPlaceholder = 'INSTANCEID';

/** Name of the storage connection setting that Azure puts in management URLs. The local host ignores it. */
const connectionName = 'Storage';

export interface ManagementEndpoint {
  /** Origin of the host, such as `http://127.0.0.1:7071`. */
  origin: string;
  taskHubName: string;
  hostKey: string;
}

export interface HttpManagementPayload {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  rewindPostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
}

/** The input binding data of `durableClient`, as `df.getClient(context)` reads it. */
export interface DurableClientData {
  taskHubName: string;
  creationUrls: { createNewInstancePostUri: string; createAndWaitOnNewInstancePostUri: string };
  managementUrls: HttpManagementPayload;
  baseUrl: string;
  requiredQueryStringParameters: string;
}

function keyQuery(hostKey: string): string {
  return `code=${encodeURIComponent(hostKey)}`;
}

/**
 * Builds the management URLs of one instance. `instanceId` is URL-encoded, except the
 * placeholder `INSTANCEID`, which the client replaces as it is.
 */
export function createManagementUrls(endpoint: ManagementEndpoint, instanceId: string): HttpManagementPayload {
  const baseUrl = `${endpoint.origin}${managementBasePath}`;
  const instanceUrl = `${baseUrl}/instances/${instanceId === instanceIdPlaceholder ? instanceId : encodeURIComponent(instanceId)}`;
  const commonQuery = `taskHub=${encodeURIComponent(endpoint.taskHubName)}&connection=${connectionName}&${keyQuery(endpoint.hostKey)}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${instanceUrl}?${commonQuery}`,
    sendEventPostUri: `${instanceUrl}/raiseEvent/{eventName}?${commonQuery}`,
    terminatePostUri: `${instanceUrl}/terminate?reason={text}&${commonQuery}`,
    rewindPostUri: `${instanceUrl}/rewind?reason={text}&${commonQuery}`,
    purgeHistoryDeleteUri: `${instanceUrl}?${commonQuery}`,
    restartPostUri: `${instanceUrl}/restart?${commonQuery}`,
    suspendPostUri: `${instanceUrl}/suspend?reason={text}&${commonQuery}`,
    resumePostUri: `${instanceUrl}/resume?reason={text}&${commonQuery}`,
  };
}

/**
 * Builds the `durableClient` binding data. It has no `rpcBaseUrl`, so every client call goes to
 * the management API at these URLs.
 */
export function createDurableClientData(endpoint: ManagementEndpoint): DurableClientData {
  const baseUrl = `${endpoint.origin}${managementBasePath}`;
  const creationUrl = `${baseUrl}/orchestrators/{functionName}[/{instanceId}]`;
  return {
    taskHubName: endpoint.taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${creationUrl}?${keyQuery(endpoint.hostKey)}`,
      createAndWaitOnNewInstancePostUri: `${creationUrl}?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${keyQuery(endpoint.hostKey)}`,
    },
    managementUrls: createManagementUrls(endpoint, instanceIdPlaceholder),
    baseUrl,
    requiredQueryStringParameters: keyQuery(endpoint.hostKey),
  };
}

/** Returns the binding data as the JSON string typed data that `@azure/functions` parses into an object. */
export function toDurableClientTypedData(endpoint: ManagementEndpoint): RpcTypedData {
  return { string: JSON.stringify(createDurableClientData(endpoint)) };
}

const loopbackHosts = ['127.0.0.1', 'localhost'];

/**
 * Prepares this process's environment for durable client calls to the host on `port`:
 * `WEBSITE_HOSTNAME`, because without it `durable-functions` rewrites every URL origin to
 * `http://localhost:7071`, and `NO_PROXY`/`no_proxy`, because the client's axios sends requests
 * through `HTTP_PROXY` unless the host is listed there.
 */
export function configureLoopbackEnvironment(port: number, env: NodeJS.ProcessEnv = process.env): void {
  env.WEBSITE_HOSTNAME = `127.0.0.1:${port}`;

  const listed = [env.NO_PROXY, env.no_proxy]
    .filter((value): value is string => value !== undefined)
    .flatMap((value) => value.split(/[,\s]+/))
    .filter((host) => host !== '');
  const noProxy = [...new Set([...listed, ...loopbackHosts])].join(',');
  env.NO_PROXY = noProxy;
  // proxy-from-env, which axios uses, reads the lower-case name first.
  env.no_proxy = noProxy;
}
