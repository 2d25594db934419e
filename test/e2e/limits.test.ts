import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageId, rawBlobNameOf } from '../../lib/ids';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import {
  createTempFolder,
  dedupKeyHeader,
  hostHasPayload,
  jsonBytes,
  listInstanceIds,
  listStoredPayloads,
  newDedupKey,
  postMessage,
  removeTempFolders,
  sign,
  signatureHeader,
  startConnectorHost,
  writeConnectorsFile,
} from './support';

/**
 * Runs the connector app on the local host with a rate-limited connector and short host read
 * timeouts, and checks that rejected requests store and start nothing.
 */

const burst = 3;
const requestsPerSecond = 0.2;
const requestTimeoutMs = 1000;
const maxHeaderBytes = 4096;
const slowSenderByteIntervalMs = 300;
const slowSenderMaxBytes = 20;

let target: TargetServer;
let host: HostProcess;
let dataDir: string;

beforeAll(async () => {
  target = await startTargetServer();
  const folder = createTempFolder('e2e-limits-');
  dataDir = path.join(folder, 'data');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    { id: 'limited', destinations: [{ id: 'sink', path: '/limited' }] },
    { id: 'open', destinations: [{ id: 'sink', path: '/open' }] },
  ]);
  const file = JSON.parse(fs.readFileSync(connectorsFile, 'utf8')) as { connectors: Array<{ id: string; inbound: Record<string, unknown> }> };
  file.connectors[0].inbound.rateLimit = { requestsPerSecond, burst };
  fs.writeFileSync(connectorsFile, JSON.stringify(file, null, 2));
  host = await startConnectorHost(connectorsFile, dataDir, {
    HOST_REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
    HOST_MAX_HEADER_BYTES: String(maxHeaderBytes),
  });
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

/** Returns whether the local payload store contains the raw bytes of the message with `dedupKey`. */
function hasRawPayload(connectorId: string, dedupKey: string): Promise<boolean> {
  return hostHasPayload(dataDir, rawBlobNameOf(connectorId, createMessageId(connectorId, dedupKey)));
}

describe('connector rate limit', () => {
  it('rejects request over burst without storing it', async () => {
    const acceptedDedupKeys = Array.from({ length: burst }, () => newDedupKey());
    const statuses: number[] = [];
    for (const [index, dedupKey] of acceptedDedupKeys.entries()) {
      const response = await postMessage(host.baseUrl, 'limited', jsonBytes({ index }), { dedupKey });
      statuses.push(response.status);
    }
    const rejectedDedupKey = newDedupKey();
    const rejected = await postMessage(host.baseUrl, 'limited', jsonBytes({ index: burst }), { dedupKey: rejectedDedupKey });
    const problem = (await rejected.json()) as Record<string, unknown>;

    expect(statuses).toEqual([202, 202, 202]);
    expect(rejected.status).toBe(429);
    expect(rejected.headers.get('retry-after')).toBe('5');
    expect(rejected.headers.get('content-type')).toBe('application/problem+json');
    expect(problem.type).toBe('urn:api-data-connector:problem:rate-limited');
    expect(await Promise.all(acceptedDedupKeys.map((dedupKey) => hasRawPayload('limited', dedupKey)))).not.toContain(false);
    expect(await hasRawPayload('limited', rejectedDedupKey)).toBe(false);
    expect(await listInstanceIds(host.baseUrl)).not.toContain(createMessageId('limited', rejectedDedupKey));
  });
});

describe('host request limits', () => {
  it('rejects headers over the limit with 431', async () => {
    const response = await fetch(`${host.baseUrl}/api/connectors/open/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-padding': 'a'.repeat(maxHeaderBytes) },
      body: '{}',
    });

    expect(response.status).toBe(431);
  });

  it('cuts off slow sender with 408 and stores nothing', async () => {
    const body = jsonBytes({ note: 'x'.repeat(80) });
    const dedupKey = newDedupKey();
    const payloadFileCount = listStoredPayloads(dataDir).length;
    const { port } = new URL(host.baseUrl);
    const socket = net.connect(Number(port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));

    socket.write(
      [
        'POST /api/connectors/open/messages HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
        `${signatureHeader}: ${sign(body)}`,
        `${dedupKeyHeader}: ${dedupKey}`,
        '',
        '',
      ].join('\r\n'),
    );
    let bytesSent = 0;
    const trickle = setInterval(() => {
      if (socket.destroyed || bytesSent >= slowSenderMaxBytes) {
        clearInterval(trickle);
        return;
      }
      socket.write(body.subarray(bytesSent, bytesSent + 1));
      bytesSent += 1;
    }, slowSenderByteIntervalMs);
    const cutOff = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 8000))]);
    clearInterval(trickle);
    socket.destroy();

    expect(cutOff).toBe(true);
    expect(bytesSent).toBeLessThan(slowSenderMaxBytes);
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    expect(await hasRawPayload('open', dedupKey)).toBe(false);
    expect(listStoredPayloads(dataDir)).toHaveLength(payloadFileCount);
    expect(await listInstanceIds(host.baseUrl)).not.toContain(createMessageId('open', dedupKey));
  });

  it('ordinary request passes the host limits', async () => {
    const response = await postMessage(host.baseUrl, 'open', jsonBytes({ ordinary: true }), { dedupKey: newDedupKey() });

    expect(response.status).toBe(202);
  });
});
