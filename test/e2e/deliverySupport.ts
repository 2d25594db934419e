import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { trackingDatabaseFileName } from '../../lib/tracking/trackingStore';
import { functionKey } from './support';

/**
 * Helpers of the delivery end-to-end tests: a loopback target whose responses a test scripts per
 * path, with headers and a delay, and read-only queries of the tracking database of the host.
 */

export interface TargetAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Time the target waits before it responds, in ms. */
  delayInMilliseconds?: number;
}

export interface TargetRequest {
  path: string;
  body: string;
  headers: http.IncomingHttpHeaders;
  receivedAt: number;
}

export interface ScriptedTarget {
  url: string;
  requests: TargetRequest[];
  /** Sets the responses for `path`, which is 200 where none is set. `index` counts the requests to that path from 0. */
  answer(path: string, answer: (request: TargetRequest, index: number) => TargetAnswer): void;
  requestsTo(path: string): TargetRequest[];
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 that records each request and responds as scripted. */
export async function startScriptedTarget(): Promise<ScriptedTarget> {
  const requests: TargetRequest[] = [];
  const answers = new Map<string, (request: TargetRequest, index: number) => TargetAnswer>();
  const server = http.createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: TargetRequest = {
        path: (incoming.url ?? '/').split('?')[0],
        body: Buffer.concat(chunks).toString('utf8'),
        headers: incoming.headers,
        receivedAt: Date.now(),
      };
      const index = requests.filter((earlier) => earlier.path === request.path).length;
      requests.push(request);
      const answer = answers.get(request.path)?.(request, index) ?? { status: 200 };
      setTimeout(() => {
        response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        response.end(JSON.stringify({ status: answer.status }));
      }, answer.delayInMilliseconds ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (targetPath, answer) => answers.set(targetPath, answer),
    requestsTo: (targetPath) => requests.filter((request) => request.path === targetPath),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface DeliveryRow {
  destination_id: string;
  payload_blob_name: string | null;
  outcome: string;
  reason: string | null;
  attempts: number;
  status_code: number | null;
}

export interface MessageRow {
  outcome: string | null;
  outcome_reason: string | null;
  configuration_version: string | null;
}

/** Reads the tracking database of a running host without writing to it. */
export function readTracking<T>(dataDir: string, read: (db: Database.Database) => T): T {
  const db = new Database(path.join(dataDir, trackingDatabaseFileName), { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

export function readDeliveries(dataDir: string, messageId: string): DeliveryRow[] {
  return readTracking(dataDir, (db) =>
    db.prepare('SELECT * FROM deliveries WHERE message_id = ? ORDER BY destination_id').all(messageId) as DeliveryRow[],
  );
}

export function readDelivery(dataDir: string, messageId: string, destinationId: string): DeliveryRow | undefined {
  return readDeliveries(dataDir, messageId).find((delivery) => delivery.destination_id === destinationId);
}

export function readMessageRow(dataDir: string, messageId: string): MessageRow | undefined {
  return readTracking(dataDir, (db) => db.prepare('SELECT * FROM messages WHERE message_id = ?').get(messageId) as MessageRow | undefined);
}

export function readAuditSteps(dataDir: string, messageId: string): Array<{ step: string; key: string; detail: Record<string, unknown> }> {
  return readTracking(dataDir, (db) =>
    (db.prepare('SELECT step, step_key, detail FROM audit WHERE message_id = ? ORDER BY audit_id').all(messageId) as Array<{ step: string; step_key: string; detail: string }>).map(
      (row) => ({ step: row.step, key: row.step_key, detail: JSON.parse(row.detail) as Record<string, unknown> }),
    ),
  );
}

/**
 * Polls every 50 ms until `condition` returns a value other than undefined, and returns it.
 * Throws with `description` after `timeoutInMilliseconds`.
 */
export async function waitFor<T>(description: string, condition: () => T | undefined | Promise<T | undefined>, timeoutInMilliseconds = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutInMilliseconds;
  for (;;) {
    const value = await condition();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutInMilliseconds} ms waiting for ${description}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends an operator request with the function key and returns the status and parsed body. */
export async function sendOperatorRequest(
  baseUrl: string,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; contentType: string | null }> {
  const response = await fetch(`${baseUrl}${pathAndQuery}`, {
    method,
    headers: { 'x-functions-key': functionKey, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text), contentType: response.headers.get('content-type') };
}
