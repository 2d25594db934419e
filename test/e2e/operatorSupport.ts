import type { TargetServer } from '../helpers/targetServer';
import { functionKey, readStatus, type MessageStatus } from './support';

/**
 * Steps of the end-to-end tests of the operator endpoints: listing messages, replays, bulk
 * replays and purging an orchestration instance, each with the host key.
 */

const pollIntervalInMilliseconds = 50;

/** The status fields that replays and the tracking store add. */
export interface OperatorMessageStatus extends Omit<MessageStatus, 'outcome'> {
  outcome: string;
  outcomeReason: string | null;
  replayOf: string | null;
  replays: Array<{ messageId: string; receivedAt: string }>;
  receivedAt: string;
}

export interface BulkReplayStatus {
  replayId: string;
  state: 'running' | 'completed' | 'cancelled' | 'failed';
  total: number;
  replayed: number;
  failed: number;
  newMessageIds: string[];
  failures: Array<{ messageId: string; error: string }>;
  operator: string;
  audit: Array<{ step: string; detail: Record<string, unknown> }>;
}

export interface JsonResponse<T> {
  status: number;
  body: T;
}

async function requestJson<T>(url: string, init: RequestInit = {}): Promise<JsonResponse<T>> {
  const response = await fetch(url, { ...init, headers: { 'x-functions-key': functionKey, ...(init.headers as Record<string, string> | undefined) } });
  return { status: response.status, body: (await response.json()) as T };
}

/** Sends `GET /api/messages` with `query`. */
export function listMessages(baseUrl: string, query: Record<string, string>): Promise<JsonResponse<{ messages: Array<{ messageId: string; receivedAt: string; outcome: string }>; continuationToken: string | null }>> {
  return requestJson(`${baseUrl}/api/messages?${new URLSearchParams(query).toString()}`);
}

/** Sends `POST /api/messages/{messageId}/replay` with `body` as JSON and `headers` added. */
export function postReplay(baseUrl: string, messageId: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<Record<string, any>>> {
  return requestJson(`${baseUrl}/api/messages/${messageId}/replay`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export function postBulkReplay(baseUrl: string, body: unknown): Promise<JsonResponse<Record<string, any>>> {
  return requestJson(`${baseUrl}/api/replays`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

export function cancelBulkReplay(baseUrl: string, replayId: string, reason: string): Promise<JsonResponse<Record<string, any>>> {
  return requestJson(`${baseUrl}/api/replays/${replayId}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason }) });
}

export async function readBulkReplay(baseUrl: string, replayId: string): Promise<BulkReplayStatus> {
  const response = await requestJson<BulkReplayStatus>(`${baseUrl}/api/replays/${replayId}`);
  if (response.status !== 200) {
    throw new Error(`Status of bulk replay ${replayId} responded with ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

/** Polls a bulk replay every 50 ms until `isDone` holds for it. Throws with the last status after `timeoutInMilliseconds`. */
export async function waitForBulkReplay(baseUrl: string, replayId: string, isDone: (status: BulkReplayStatus) => boolean, timeoutInMilliseconds = 20_000): Promise<BulkReplayStatus> {
  const deadline = Date.now() + timeoutInMilliseconds;
  let status = await readBulkReplay(baseUrl, replayId);
  while (!isDone(status)) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutInMilliseconds} ms waiting for bulk replay ${replayId}. Last status: ${JSON.stringify(status)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalInMilliseconds));
    status = await readBulkReplay(baseUrl, replayId);
  }
  return status;
}

export async function readOperatorStatus(baseUrl: string, messageId: string): Promise<OperatorMessageStatus> {
  return (await readStatus(baseUrl, messageId)) as unknown as OperatorMessageStatus;
}

/** Deletes an orchestration instance and its history through the management API. Returns the response status. */
export async function purgeInstance(baseUrl: string, instanceId: string): Promise<number> {
  const response = await fetch(`${baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}`, {
    method: 'DELETE',
    headers: { 'x-functions-key': functionKey },
  });
  await response.text();
  return response.status;
}

/** Polls until the target has received `count` requests, at most `timeoutInMilliseconds`, then returns the number received. */
export async function waitForRequestCount(target: TargetServer, count: number, timeoutInMilliseconds = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutInMilliseconds;
  while (target.requests.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, pollIntervalInMilliseconds));
  }
  return target.requests.length;
}
