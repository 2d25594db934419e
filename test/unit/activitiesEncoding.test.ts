import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { deliverPayload } from '../../activities/deliverPayload';
import { readEntityVersion } from '../../activities/readEntityVersion';
import { transformPayload } from '../../activities/transformPayload';
import type { TransformPayloadOutput } from '../../lib/contracts';
import { PermanentError } from '../../lib/errors';
import { createTestDependencies, ordersConnector, type TestDependencies } from './support/testDependencies';

const messageId = 'orders-0123456789abcdef0123456789abcdef';
const rawBlobName = `raw/orders/${messageId}`;
const payloadReference = { messageId, connectorId: 'orders', rawBlobName };
const transformInput = { ...payloadReference, destinationIds: ['erp'] };

/** Returns the payload store name that the transform chose for destination erp. */
function deliveredBlobNameOf(output: TransformPayloadOutput): string | undefined {
  const [destination] = output.destinations;
  return destination?.kind === 'deliver' ? destination.payloadBlobName : undefined;
}
const order = { orderId: '123', status: 'paid \uFFFE 🚚', updatedAt: '2024-05-01T09:00:00Z' };
const orderBytes = Buffer.from(JSON.stringify(order), 'utf8');

let dependencies: TestDependencies;

afterEach(() => {
  dependencies.dispose();
});

describe('transformPayload of encoded payloads', () => {
  test('decodes a gzip payload before the transform', async () => {
    dependencies = createTestDependencies();
    await dependencies.payloadStore.put(rawBlobName, zlib.gzipSync(orderBytes), { contentType: 'application/json', contentEncoding: 'gzip' });

    const output = await transformPayload(transformInput, dependencies);

    const transformed = await dependencies.payloadStore.get(deliveredBlobNameOf(output) ?? '');
    expect(JSON.parse(transformed?.bytes.toString('utf8') ?? '')).toEqual({ id: '123', state: order.status });
  });

  test('keeps U+FFFE and emoji of a payload with a byte order mark', async () => {
    dependencies = createTestDependencies();
    await dependencies.payloadStore.put(rawBlobName, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), orderBytes]), { contentType: 'application/json' });

    const output = await transformPayload(transformInput, dependencies);

    const transformed = await dependencies.payloadStore.get(deliveredBlobNameOf(output) ?? '');
    expect(transformed?.bytes.toString('utf8')).toContain('paid \uFFFE 🚚');
  });

  test('payload over maxDecodedBytes is a permanent error', async () => {
    const connector = ordersConnector();
    connector.inbound = { ...connector.inbound, maxDecodedBytes: 16 };
    dependencies = createTestDependencies([connector]);
    await dependencies.payloadStore.put(rawBlobName, zlib.gzipSync(orderBytes), { contentType: 'application/json', contentEncoding: 'gzip' });

    await expect(transformPayload(transformInput, dependencies)).rejects.toThrow(PermanentError);
    await expect(transformPayload(transformInput, dependencies)).rejects.toThrow('decodes to more than 16 bytes');
  });

  test('non-JSON payload of a connector with transform is a permanent error', async () => {
    dependencies = createTestDependencies();
    await dependencies.payloadStore.put(rawBlobName, Buffer.from('a,b\n'), { contentType: 'text/csv' });

    await expect(transformPayload(transformInput, dependencies)).rejects.toThrow('has content type "text/csv", which is not JSON');
  });
});

describe('readEntityVersion of encoded payloads', () => {
  test('decodes a br payload', async () => {
    dependencies = createTestDependencies();
    await dependencies.payloadStore.put(rawBlobName, zlib.brotliCompressSync(orderBytes), { contentType: 'application/json', contentEncoding: 'br' });

    const output = await readEntityVersion(payloadReference, dependencies);

    expect(output.entity).toEqual({ type: 'order', key: '123', version: order.updatedAt });
  });
});

describe('deliverPayload of raw payloads', () => {
  const received: Array<{ contentType: string | undefined; contentEncoding: string | undefined; body: Buffer }> = [];
  let server: http.Server;
  let targetUrl: string;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ contentType: request.headers['content-type'], contentEncoding: request.headers['content-encoding'], body: Buffer.concat(chunks) });
        response.writeHead(200);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function deliverRaw(bytes: Buffer, headers: { contentType: string; contentEncoding?: string }) {
    const connector = ordersConnector(targetUrl);
    connector.inbound = { ...connector.inbound, acceptedContentTypes: ['application/x-ndjson'] };
    delete connector.transform;
    delete connector.entity;
    dependencies = createTestDependencies([connector]);
    await dependencies.payloadStore.put(rawBlobName, bytes, headers);
    await deliverPayload(
      { messageId, connectorId: 'orders', destinationId: 'erp', payloadBlobName: rawBlobName, attemptNumber: 1, maxAttempts: 3, idempotencyKey: `${messageId}:erp` },
      dependencies,
    );
    return received[received.length - 1];
  }

  test('opaque payload goes out with its type and exact bytes', async () => {
    const ndjson = Buffer.from('{"a":"\uFFFE"}\n{"a":2}\n', 'utf8');

    const request = await deliverRaw(ndjson, { contentType: 'application/x-ndjson' });

    expect(request.contentType).toBe('application/x-ndjson');
    expect(request.body.equals(ndjson)).toBe(true);
  });

  test('gzip payload goes out decoded with its content type', async () => {
    const request = await deliverRaw(zlib.gzipSync(orderBytes), { contentType: 'application/json; charset=utf-8', contentEncoding: 'gzip' });

    expect(request.contentType).toBe('application/json; charset=utf-8');
    expect(request.contentEncoding).toBeUndefined();
    expect(request.body.equals(orderBytes)).toBe(true);
  });
});
