import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryInstanceId, rawBlobNameOf } from '../../lib/ids';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type ReceivedRequest, type TargetServer } from '../helpers/targetServer';
import {
  type ConnectorOptions,
  createTempFolder,
  dedupKeyHeader,
  functionKey,
  listStoredPayloads,
  newDedupKey,
  readHostPayload,
  readStatus,
  removeTempFolders,
  sha256Hex,
  sign,
  signatureHeader,
  startConnectorHost,
  waitForTerminalStatus,
  writeConnectorsFile,
} from './support';

/**
 * Runs the connector app on the local host and sends it compressed, BOM-prefixed, opaque and
 * schema-violating payloads. The schema test restarts the host on the same data folder.
 */

const limitsMaxBodyBytes = 2048;
const ordersMaxDecodedBytes = 64 * 1024;
const ordersTransform = "{ 'id': orderId, 'state': status, 'note': note }";

const strictSchema = {
  type: 'object',
  required: ['orderId', 'customer'],
  properties: {
    orderId: { type: 'string' },
    customer: { type: 'object', required: ['email'], properties: { email: { type: 'string' } } },
  },
};
const relaxedSchema = { type: 'object', required: ['orderId'] };

let target: TargetServer;
let host: HostProcess;
let folder: string;
let dataDir: string;
let connectorsFile: string;

const connectorOptions: ConnectorOptions[] = [
  { id: 'limits', maxBodyBytes: limitsMaxBodyBytes, destinations: [{ id: 'sink', path: '/limits' }] },
  { id: 'orders', transform: ordersTransform, destinations: [{ id: 'erp', path: '/orders' }] },
  { id: 'feed', destinations: [{ id: 'lake', path: '/feed' }] },
  { id: 'strict', destinations: [{ id: 'crm', path: '/strict' }] },
];

/** Extra `inbound` settings per connector, added to what writeConnectorsFile writes. */
const inboundSettings: Record<string, Record<string, unknown>> = {
  orders: { maxDecodedBytes: ordersMaxDecodedBytes },
  feed: { acceptedContentTypes: ['application/x-ndjson'] },
  strict: { schemaFile: 'schemas/strict.json' },
};

/** Writes the connectors file and the schema file of connector `strict`. */
function writeConfiguration(strictConnectorSchema: Record<string, unknown>): void {
  connectorsFile = writeConnectorsFile(folder, target.url, connectorOptions);
  const file = JSON.parse(fs.readFileSync(connectorsFile, 'utf8')) as { connectors: Array<{ id: string; inbound: Record<string, unknown> }> };
  for (const connector of file.connectors) {
    Object.assign(connector.inbound, inboundSettings[connector.id] ?? {});
  }
  fs.writeFileSync(connectorsFile, JSON.stringify(file, null, 2));
  fs.mkdirSync(path.join(folder, 'schemas'), { recursive: true });
  fs.writeFileSync(path.join(folder, 'schemas', 'strict.json'), JSON.stringify(strictConnectorSchema));
}

beforeAll(async () => {
  target = await startTargetServer();
  folder = createTempFolder('e2e-ingest-bytes-');
  dataDir = path.join(folder, 'data');
  writeConfiguration(strictSchema);
  host = await startConnectorHost(connectorsFile, dataDir);
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

interface SendOptions {
  contentType?: string;
  contentEncoding?: string;
  dedupKey?: string;
}

/** Sends signed bytes to the ingest endpoint of `connectorId`, with the headers a partner would set. */
function send(connectorId: string, body: Buffer, options: SendOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/json',
    [signatureHeader]: sign(body),
    [dedupKeyHeader]: options.dedupKey ?? newDedupKey(),
  };
  if (options.contentEncoding !== undefined) {
    headers['content-encoding'] = options.contentEncoding;
  }
  return fetch(`${host.baseUrl}/api/connectors/${connectorId}/messages`, { method: 'POST', headers, body });
}

async function sendAccepted(connectorId: string, body: Buffer, options: SendOptions = {}): Promise<string> {
  const response = await send(connectorId, body, options);
  const text = await response.text();
  if (response.status !== 202) {
    throw new Error(`Ingest of connector ${connectorId} responded with ${response.status}: ${text}`);
  }
  return (JSON.parse(text) as { messageId: string }).messageId;
}

async function readStoredRaw(connectorId: string, messageId: string) {
  return readHostPayload(dataDir, rawBlobNameOf(connectorId, messageId));
}

function deliveryOf(messageId: string, destinationId: string): ReceivedRequest | undefined {
  return target.requests.find((request) => request.headers['idempotency-key'] === createDeliveryInstanceId(messageId, destinationId));
}

async function operatorRequest(pathAndQuery: string, method = 'GET'): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${host.baseUrl}/api/${pathAndQuery}`, { method, headers: { 'x-functions-key': functionKey } });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Returns JSON bytes of exactly `sizeInBytes` bytes, padded with a `pad` field. */
function jsonOfSize(sizeInBytes: number): Buffer {
  const empty = Buffer.from(JSON.stringify({ orderId: 'size-1', pad: '' }));
  return Buffer.from(JSON.stringify({ orderId: 'size-1', pad: 'x'.repeat(sizeInBytes - empty.length) }));
}

describe('size limit', () => {
  it('body of exactly maxBodyBytes is accepted', async () => {
    const body = jsonOfSize(limitsMaxBodyBytes);
    expect(body.length).toBe(limitsMaxBodyBytes);

    const response = await send('limits', body);

    expect(response.status).toBe(202);
  });

  it('body one byte over maxBodyBytes gets 413', async () => {
    const response = await send('limits', jsonOfSize(limitsMaxBodyBytes + 1));

    expect(response.status).toBe(413);
  });
});

describe('gzip payload', () => {
  const order = { orderId: 'GZ-1', status: 'shipped', note: 'compressed 📦' };
  const compressed = zlib.gzipSync(Buffer.from(JSON.stringify(order), 'utf8'));
  let messageId: string;

  beforeAll(async () => {
    messageId = await sendAccepted('orders', compressed, { contentEncoding: 'gzip' });
    await waitForTerminalStatus(host.baseUrl, messageId);
  });

  it('is stored compressed with its encoding', async () => {
    const stored = await readStoredRaw('orders', messageId);

    expect(stored?.bytes.equals(compressed)).toBe(true);
    expect(stored?.contentEncoding).toBe('gzip');
  });

  it('status shows size, SHA-256 and encoding of the compressed bytes', async () => {
    const status = (await readStatus(host.baseUrl, messageId)) as Awaited<ReturnType<typeof readStatus>> & { contentEncoding: string | null };

    expect(status.sha256).toBe(sha256Hex(compressed));
    expect(status.sizeInBytes).toBe(compressed.length);
    expect(status.contentEncoding).toBe('gzip');
  });

  it('target receives the transform result', () => {
    const delivery = deliveryOf(messageId, 'erp');

    expect(JSON.parse(delivery?.body.toString('utf8') ?? '')).toEqual({ id: order.orderId, state: order.status, note: order.note });
  });
});

describe('compression bomb', () => {
  it('gets 413 and stores nothing', async () => {
    // 64 MiB of zeros compress to about 64 KiB, under the host's body limit.
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const payloadFilesBefore = listStoredPayloads(dataDir);

    const response = await send('orders', bomb, { contentEncoding: 'gzip' });
    const problem = (await response.json()) as { detail: string };

    expect(response.status).toBe(413);
    expect(problem.detail).toContain(`decodes to more than ${ordersMaxDecodedBytes} bytes`);
    expect(listStoredPayloads(dataDir)).toEqual(payloadFilesBefore);
  });
});

describe('byte order mark, emoji and U+FFFE', () => {
  const order = { orderId: 'BOM-1', status: 'bezahlt \uFFFE', note: 'Grüße 🚚\uFFFE\u0001' };
  const sentBytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(order, null, 2), 'utf8')]);
  let messageId: string;

  beforeAll(async () => {
    messageId = await sendAccepted('orders', sentBytes);
    await waitForTerminalStatus(host.baseUrl, messageId);
  });

  it('stored bytes equal the sent bytes', async () => {
    const stored = await readStoredRaw('orders', messageId);

    expect(stored?.bytes.equals(sentBytes)).toBe(true);
  });

  it('target receives the values', () => {
    const delivery = deliveryOf(messageId, 'erp');

    expect(JSON.parse(delivery?.body.toString('utf8') ?? '')).toEqual({ id: order.orderId, state: order.status, note: order.note });
  });
});

describe('NDJSON payload', () => {
  const ndjson = Buffer.from('{"sku":"A-1","qty":2}\n{"sku":"B-2","note":"Zoë \uFFFE"}\n', 'utf8');
  let messageId: string;

  beforeAll(async () => {
    messageId = await sendAccepted('feed', ndjson, { contentType: 'application/x-ndjson' });
    await waitForTerminalStatus(host.baseUrl, messageId);
  });

  it('is delivered with its content type', () => {
    expect(deliveryOf(messageId, 'lake')?.headers['content-type']).toBe('application/x-ndjson');
  });

  it('is delivered as the exact bytes', () => {
    expect(deliveryOf(messageId, 'lake')?.body.equals(ndjson)).toBe(true);
  });
});

describe('schema violation', () => {
  const invalidOrder = Buffer.from(JSON.stringify({ orderId: 'Q-1', customer: { name: 'Zoë' } }));
  const dedupKey = newDedupKey();
  let quarantineId: string;
  let problem: Record<string, any>;
  let status: number;

  beforeAll(async () => {
    const response = await send('strict', invalidOrder, { dedupKey });
    status = response.status;
    problem = (await response.json()) as Record<string, any>;
    quarantineId = problem.quarantineId as string;
  });

  it('gets 422 with pointers', () => {
    expect(status).toBe(422);
    expect(problem.errors).toEqual([{ pointer: '/customer/email', message: 'required property "email" is missing' }]);
  });

  it('is listed in quarantine', async () => {
    const { status: listStatus, body } = await operatorRequest('quarantine?connectorId=strict&top=10');

    expect(listStatus).toBe(200);
    expect(body.payloads).toEqual([expect.objectContaining({ quarantineId, state: 'quarantined', sha256: sha256Hex(invalidOrder), dedupKey })]);
  });

  it('shows its reason', async () => {
    const { body } = await operatorRequest(`quarantine/${quarantineId}`);

    expect(body.reason).toContain('/customer/email');
  });

  it('release against the same schema gets 422', async () => {
    const { status: releaseStatus, body } = await operatorRequest(`quarantine/${quarantineId}/release`, 'POST');

    expect(releaseStatus).toBe(422);
    expect(body.errors).toEqual(problem.errors);
  });

  describe('after a restart with a relaxed schema', () => {
    let messageId: string;
    let releaseStatus: number;

    beforeAll(async () => {
      await host.stop();
      writeConfiguration(relaxedSchema);
      host = await startConnectorHost(connectorsFile, dataDir);

      const release = await operatorRequest(`quarantine/${quarantineId}/release`, 'POST');
      releaseStatus = release.status;
      messageId = release.body.messageId as string;
      await waitForTerminalStatus(host.baseUrl, messageId);
    });

    it('release gets 202 with the message id', () => {
      expect(releaseStatus).toBe(202);
      expect(messageId).toMatch(/^strict-[0-9a-f]{32}$/);
    });

    it('released message is delivered', async () => {
      const messageStatus = await readStatus(host.baseUrl, messageId);

      expect(messageStatus.outcome).toBe('delivered');
      expect(deliveryOf(messageId, 'crm')?.body.equals(invalidOrder)).toBe(true);
    });

    it('second release gets 409', async () => {
      const { status: secondStatus } = await operatorRequest(`quarantine/${quarantineId}/release`, 'POST');

      expect(secondStatus).toBe(409);
    });

    it('quarantine shows the release', async () => {
      const { body } = await operatorRequest(`quarantine/${quarantineId}`);

      expect(body).toMatchObject({ state: 'released', messageId });
    });
  });
});
