import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localPayloadFolderName } from '../../lib/payloadStore/createPayloadStore';
import { LocalPayloadStore } from '../../lib/payloadStore/LocalPayloadStore';
import type { StoredPayload } from '../../lib/payloadStore/PayloadStore';
import { repoRoot, startHostProcess, type HostProcess } from '../helpers/hostProcess';

/**
 * Shared steps of the end-to-end tests: a connectors file that points at a loopback target,
 * the connector app on the local host, signed ingest requests and polling of message status.
 */

export const functionKey = 'e2e-function-key';
export const connectorSecretName = 'E2E_CONNECTOR_SECRET';
export const connectorSecret = 'e2e-connector-secret';
export const signatureHeader = 'X-Signature';
export const dedupKeyHeader = 'webhook-id';

export const terminalRuntimeStatuses = ['Completed', 'Failed', 'Terminated', 'Canceled'];

const statusPollIntervalInMilliseconds = 50;
const defaultStatusTimeoutInMilliseconds = 20_000;

export interface DestinationOptions {
  id: string;
  /** Path on the target server, such as `/orders`. */
  path: string;
  maxAttempts?: number;
  timeoutInMilliseconds?: number;
  /** Retry settings that replace the defaults of `writeConnectorsFile`. */
  retry?: Record<string, unknown>;
  circuitBreaker?: { failureThreshold?: number; coolDownInMilliseconds?: number };
  ordering?: 'none' | 'fifoPerEntity';
  /** JSONata filter over the raw payload. */
  filter?: string;
  /** JSONata expression of the destination's own transform. */
  transform?: string;
}

export interface ConnectorOptions {
  id: string;
  maxBodyBytes?: number;
  entity?: { type: string; key: string; version?: string };
  /** JSONata expression. Without it the raw payload is delivered. */
  transform?: string;
  destinations: DestinationOptions[];
}

/** The fields of `GET /api/messages/{messageId}` that the tests read. */
export interface MessageStatus {
  messageId: string;
  connectorId: string;
  claimState: string;
  sizeInBytes: number | null;
  sha256: string | null;
  runtimeStatus: string | null;
  outcome: 'delivered' | 'stale' | 'failed' | 'pending';
  failure: unknown;
  entityType: string | null;
  entityKey: string | null;
  entityVersion: string | number | null;
  destinations: Array<{
    destinationId: string;
    outcome: string;
    attempts: Array<{ attemptNumber: number; outcome: string; statusCode: number | null; error: string | null }>;
  }>;
  audit: Array<{ at: string; step: string; key: string; detail: unknown }>;
}

const createdFolders: string[] = [];

/** Creates a folder under the system temp folder. `removeTempFolders` deletes it. */
export function createTempFolder(prefix: string): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  createdFolders.push(folder);
  return folder;
}

export function removeTempFolders(): void {
  createdFolders.splice(0).forEach((folder) => fs.rmSync(folder, { recursive: true, force: true }));
}

/**
 * Writes a connectors file whose destinations are paths on `targetUrl`. Every connector
 * signs with HMAC-SHA256 and takes its dedup key from the `webhook-id` header. Retries wait
 * 50 ms each, so a test of three attempts takes well under a second.
 */
export function writeConnectorsFile(folder: string, targetUrl: string, connectors: ConnectorOptions[]): string {
  const file = {
    connectors: connectors.map((connector) => ({
      id: connector.id,
      inbound: {
        auth: { type: 'hmac-sha256', header: signatureHeader, secretRef: connectorSecretName },
        maxBodyBytes: connector.maxBodyBytes ?? 1_048_576,
      },
      dedupKey: { header: dedupKeyHeader },
      ...(connector.entity === undefined ? {} : { entity: connector.entity }),
      ...(connector.transform === undefined ? {} : { transform: { type: 'jsonata', expression: connector.transform } }),
      destinations: connector.destinations.map((destination) => ({
        id: destination.id,
        url: `${targetUrl}${destination.path}`,
        method: 'POST',
        timeoutInMilliseconds: destination.timeoutInMilliseconds ?? 5_000,
        allowedPrivateRanges: ['127.0.0.0/8'],
        retry: {
          maxAttempts: destination.maxAttempts ?? 3,
          firstIntervalInMilliseconds: 50,
          backoffCoefficient: 1,
          maxIntervalInMilliseconds: 50,
          ...destination.retry,
        },
        ...(destination.circuitBreaker === undefined ? {} : { circuitBreaker: destination.circuitBreaker }),
        ...(destination.ordering === undefined ? {} : { ordering: destination.ordering }),
        ...(destination.filter === undefined ? {} : { filter: destination.filter }),
        ...(destination.transform === undefined ? {} : { transform: { type: 'jsonata', expression: destination.transform } }),
      })),
    })),
  };
  const filePath = path.join(folder, 'connectors.json');
  fs.writeFileSync(filePath, JSON.stringify(file, null, 2));
  return filePath;
}

/** Starts the connector app (this repository's `dist/app.js`) on the local host, with `env` added to its environment. */
export function startConnectorHost(connectorsFile: string, dataDir: string, env: Record<string, string> = {}): Promise<HostProcess> {
  return startHostProcess({
    appRoot: repoRoot,
    dataDir,
    env: {
      CONNECTORS_FILE: connectorsFile,
      LOCAL_FUNCTION_KEY: functionKey,
      [connectorSecretName]: connectorSecret,
      PAYLOAD_STORE: undefined,
      ...env,
    },
  });
}

/** Returns the signature header value for `body`, as a partner computes it. */
export function sign(body: Buffer, secret: string = connectorSecret): string {
  return `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function sha256Hex(bytes: Buffer): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

export function newDedupKey(): string {
  return `evt-${crypto.randomUUID()}`;
}

export interface PostOptions {
  dedupKey?: string;
  /** The signature header value. Undefined signs the body with the connector secret, null sends no header. */
  signature?: string | null;
  contentType?: string;
}

/** Sends `body` to the ingest endpoint of `connectorId`. Signs it with the connector secret unless `options.signature` is set. */
export function postMessage(baseUrl: string, connectorId: string, body: Buffer, options: PostOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  const signature = options.signature === undefined ? sign(body) : options.signature;
  if (signature !== null) {
    headers[signatureHeader] = signature;
  }
  if (options.dedupKey !== undefined) {
    headers[dedupKeyHeader] = options.dedupKey;
  }
  return fetch(`${baseUrl}/api/connectors/${connectorId}/messages`, { method: 'POST', headers, body });
}

/** Sends a signed message and returns its message id. Throws an error with the response body when the status is not 202 or 200. */
export async function sendMessage(baseUrl: string, connectorId: string, body: Buffer, dedupKey: string = newDedupKey()): Promise<string> {
  const response = await postMessage(baseUrl, connectorId, body, { dedupKey });
  const text = await response.text();
  if (response.status !== 202 && response.status !== 200) {
    throw new Error(`Ingest of connector ${connectorId} responded with ${response.status}: ${text}`);
  }
  return (JSON.parse(text) as { messageId: string }).messageId;
}

export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Reads `GET /api/messages/{messageId}` with the function key. Throws an error with the response body when the status is not 200. */
export async function readStatus(baseUrl: string, messageId: string): Promise<MessageStatus> {
  const response = await fetch(`${baseUrl}/api/messages/${messageId}`, { headers: { 'x-functions-key': functionKey } });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`Status of message ${messageId} responded with ${response.status}: ${text}`);
  }
  return JSON.parse(text) as MessageStatus;
}

/**
 * Polls the status of a message every 50 ms until its runtime status is terminal. Throws
 * with the last status read when that takes longer than `timeoutInMilliseconds`.
 */
export async function waitForTerminalStatus(
  baseUrl: string,
  messageId: string,
  timeoutInMilliseconds: number = defaultStatusTimeoutInMilliseconds,
): Promise<MessageStatus> {
  const deadline = Date.now() + timeoutInMilliseconds;
  let status = await readStatus(baseUrl, messageId);
  while (!terminalRuntimeStatuses.includes(status.runtimeStatus ?? '')) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutInMilliseconds} ms waiting for message ${messageId} to reach a terminal runtime status. Last status: ${JSON.stringify(status)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, statusPollIntervalInMilliseconds));
    status = await readStatus(baseUrl, messageId);
  }
  return status;
}

/**
 * Sends GET to `pathAndQuery` under the Durable Functions management API with the host key and
 * returns the parsed JSON. Throws an error with the response body when the status is not 200.
 */
export async function readManagementApi<T>(baseUrl: string, pathAndQuery: string): Promise<T> {
  const response = await fetch(`${baseUrl}/runtime/webhooks/durabletask/${pathAndQuery}`, { headers: { 'x-functions-key': functionKey } });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`Management API ${pathAndQuery} responded with ${response.status}: ${text}`);
  }
  return JSON.parse(text) as T;
}

/** Returns the instance ids that the management API lists, sorted. */
export async function listInstanceIds(baseUrl: string): Promise<string[]> {
  const instances = await readManagementApi<Array<{ instanceId: string }>>(baseUrl, 'instances?showInput=false');
  return instances.map((instance) => instance.instanceId).sort();
}

/**
 * Opens the payload store in `dataDir` as the host opens it, to read what the host stored. It
 * shares the database with the host process. Close it when done.
 */
export function openHostPayloadStore(dataDir: string): LocalPayloadStore {
  fs.mkdirSync(dataDir, { recursive: true });
  return new LocalPayloadStore(dataDir, path.join(dataDir, localPayloadFolderName));
}

/** Reads payload `name` from the payload store in `dataDir`. */
export async function readHostPayload(dataDir: string, name: string): Promise<StoredPayload | undefined> {
  const store = openHostPayloadStore(dataDir);
  try {
    return await store.get(name);
  } finally {
    store.close();
  }
}

/** Returns whether the payload store in `dataDir` contains payload `name`. */
export async function hostHasPayload(dataDir: string, name: string): Promise<boolean> {
  const store = openHostPayloadStore(dataDir);
  try {
    return await store.exists(name);
  } finally {
    store.close();
  }
}

/**
 * Lists what the local payload store of `dataDir` holds, sorted: the payload names in its
 * database, then the paths of its payload files relative to the file folder.
 */
export function listStoredPayloads(dataDir: string): string[] {
  const store = openHostPayloadStore(dataDir);
  try {
    return [...store.listDatabaseNames(), ...listPayloadFiles(path.join(dataDir, localPayloadFolderName))];
  } finally {
    store.close();
  }
}

function listPayloadFiles(payloadFolder: string): string[] {
  if (!fs.existsSync(payloadFolder)) {
    return [];
  }
  return (fs.readdirSync(payloadFolder, { recursive: true }) as string[])
    .filter((entry) => fs.statSync(path.join(payloadFolder, entry)).isFile())
    .sort();
}
