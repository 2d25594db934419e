import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { createDeliveryInstanceId } from '../../lib/ids';
import type { HostProcess } from '../helpers/hostProcess';
import {
  createTempFolder,
  jsonBytes,
  newDedupKey,
  postMessage,
  removeTempFolders,
  startConnectorHost,
  waitForTerminalStatus,
  writeConnectorsFile,
} from './support';

/**
 * Kills the host with SIGKILL while deliveries are in flight, restarts it on the same data
 * folder and checks that every accepted message is delivered. A delivery that the target
 * receives again must carry the same Idempotency-Key and body as the first one.
 */

const messageCount = 50;
const minResponseDelayInMilliseconds = 100;
const maxResponseDelayInMilliseconds = 300;
const firstResponseWaitInMilliseconds = 10_000;
const recoveryTimeoutInMilliseconds = 40_000;

interface SlowTargetRequest {
  idempotencyKey: string;
  body: Buffer;
  receivedAt: number;
  /** Set when the target wrote its 200 response. */
  respondedAt?: number;
}

interface SlowTarget {
  url: string;
  requests: SlowTargetRequest[];
  /** Starts the responses: each request held so far, and each later one, gets its 200 after its delay. */
  releaseResponses(): void;
  close(): Promise<void>;
}

/**
 * Starts a loopback target that records each request when it arrives and responds with 200
 * after a delay of 100 to 300 ms that varies from request to request. It sends no response
 * before `releaseResponses` is called, so no delivery can finish while the test is still
 * sending messages, however slow the machine is.
 */
async function startSlowTarget(): Promise<SlowTarget> {
  const requests: SlowTargetRequest[] = [];
  const delayRangeInMilliseconds = maxResponseDelayInMilliseconds - minResponseDelayInMilliseconds;
  let releaseResponses = (): void => undefined;
  const responsesReleased = new Promise<void>((resolve) => (releaseResponses = resolve));

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: SlowTargetRequest = {
        idempotencyKey: String(request.headers['idempotency-key'] ?? ''),
        body: Buffer.concat(chunks),
        receivedAt: Date.now(),
      };
      const delayInMilliseconds = minResponseDelayInMilliseconds + ((requests.length * 37) % (delayRangeInMilliseconds + 1));
      requests.push(received);
      const respond = (): void => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"status":200}');
        received.respondedAt = Date.now();
      };
      void responsesReleased.then(() => setTimeout(respond, delayInMilliseconds));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    releaseResponses,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `condition` every 10 ms. Throws when it is still false after `timeoutInMilliseconds`. */
async function waitUntil(condition: () => boolean, timeoutInMilliseconds: number, description: string): Promise<void> {
  const deadline = Date.now() + timeoutInMilliseconds;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutInMilliseconds} ms waiting for ${description}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const startedHosts: HostProcess[] = [];
const startedTargets: SlowTarget[] = [];

afterAll(async () => {
  await Promise.all(startedHosts.map((host) => host.stop()));
  await Promise.all(startedTargets.map((target) => target.close()));
  removeTempFolders();
});

test.each([
  ['host thread', {}],
  ['two workers', { FUNCTIONS_WORKER_PROCESS_COUNT: '2' }],
])('kill -9 loses no message, %s', async (_mode: string, hostEnv: Record<string, string>) => {
  const target = await startSlowTarget();
  startedTargets.push(target);
  const folder = createTempFolder('e2e-crash-');
  const dataDir = path.join(folder, 'data');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    { id: 'shipments', destinations: [{ id: 'erp', path: '/shipments', maxAttempts: 10 }] },
  ]);
  const firstHost = await startConnectorHost(connectorsFile, dataDir, hostEnv);
  startedHosts.push(firstHost);

  const payloads = Array.from({ length: messageCount }, (_, sequence) => jsonBytes({ shipmentId: `SHP-${sequence}`, sequence }));
  const responses = await Promise.all(payloads.map((body) => postMessage(firstHost.baseUrl, 'shipments', body, { dedupKey: newDedupKey() })));
  const messageIds = await Promise.all(responses.map(async (response) => ((await response.json()) as { messageId: string }).messageId));
  expect(responses.filter((response) => response.status === 202)).toHaveLength(messageCount);

  target.releaseResponses();
  await waitUntil(
    () => target.requests.some((request) => request.respondedAt !== undefined),
    firstResponseWaitInMilliseconds,
    'the first delivery to get its response',
  );
  const killedAt = Date.now();
  firstHost.kill();
  await firstHost.exited;

  const requestsBeforeKill = target.requests.filter((request) => request.receivedAt <= killedAt);
  const gotResponseBeforeKill = (request: SlowTargetRequest): boolean => request.respondedAt !== undefined && request.respondedAt <= killedAt;
  const keysDeliveredBeforeKill = new Set(requestsBeforeKill.filter(gotResponseBeforeKill).map((request) => request.idempotencyKey));
  const inFlightAtKillCount = requestsBeforeKill.filter((request) => !gotResponseBeforeKill(request)).length;

  const secondHost = await startConnectorHost(connectorsFile, dataDir, hostEnv);
  startedHosts.push(secondHost);
  const statuses = await Promise.all(messageIds.map((messageId) => waitForTerminalStatus(secondHost.baseUrl, messageId, recoveryTimeoutInMilliseconds)));

  const sentBodyByIdempotencyKey = new Map(messageIds.map((messageId, index) => [createDeliveryInstanceId(messageId, 'erp'), payloads[index]]));
  const receivedKeys = new Set(target.requests.map((request) => request.idempotencyKey));
  const isSentBody = (request: SlowTargetRequest): boolean => sentBodyByIdempotencyKey.get(request.idempotencyKey)?.equals(request.body) ?? false;

  expect(keysDeliveredBeforeKill.size).toBeLessThan(messageCount);
  expect(inFlightAtKillCount).toBeGreaterThan(0);
  expect(statuses.filter((status) => status.outcome === 'delivered')).toHaveLength(messageCount);
  expect(target.requests.filter((request) => !sentBodyByIdempotencyKey.has(request.idempotencyKey))).toEqual([]);
  expect([...sentBodyByIdempotencyKey.keys()].filter((key) => !receivedKeys.has(key))).toEqual([]);
  expect(target.requests.filter((request) => !isSentBody(request))).toEqual([]);
});
