import zlib from 'node:zlib';
import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { digestPayload } from '../../lib/payloadStore/PayloadStore';
import { signHmacSha256 } from './support/signHmacSha256';
import { ingestMessage } from '../../triggers/ingest';
import { createRecordingStarter } from './support/recordingStarter';
import { createTestDependencies, ordersConnector, testSecret, type TestDependencies } from './support/testDependencies';

const order = { orderId: '1001', status: 'paid', updatedAt: '2024-05-01T09:00:00Z', note: 'Grüße 🚚' };
const orderBytes = Buffer.from(JSON.stringify(order), 'utf8');

/** Returns an `orders` connector with small limits, and `feed`, which accepts NDJSON and CSV without transform or entity. */
function connectors(): Record<string, any>[] {
  const orders = ordersConnector();
  orders.inbound = { ...orders.inbound, maxBodyBytes: 4096, maxDecodedBytes: 2048 };
  const feed = ordersConnector();
  feed.id = 'feed';
  feed.inbound = { ...feed.inbound, acceptedContentTypes: ['application/x-ndjson', 'text/csv'] };
  delete feed.transform;
  delete feed.entity;
  return [orders, feed];
}

function signedRequest(bytes: Buffer, headers: Record<string, string> = {}, connectorId = 'orders'): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: `http://127.0.0.1:7071/api/connectors/${connectorId}/messages`,
    body: { bytes },
    headers: { 'content-type': 'application/json', 'x-signature': signHmacSha256(bytes, testSecret), 'webhook-id': `evt-${Math.random()}`, ...headers },
    params: { connectorId },
  });
}

function problemOf(response: HttpResponseInit): Record<string, any> {
  return JSON.parse(response.body as string) as Record<string, any>;
}

function messageIdOf(response: HttpResponseInit): string {
  return (JSON.parse(response.body as string) as { messageId: string }).messageId;
}

describe('ingestMessage with encoded and opaque bodies', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    dependencies = createTestDependencies(connectors());
  });

  afterEach(() => {
    dependencies.dispose();
  });

  async function ingest(bytes: Buffer, headers: Record<string, string> = {}, connectorId = 'orders') {
    const starter = createRecordingStarter();
    const response = await ingestMessage(signedRequest(bytes, headers, connectorId), starter, dependencies);
    return { response, starter };
  }

  test('gzip body is stored compressed with its encoding', async () => {
    const compressed = zlib.gzipSync(orderBytes);

    const { response, starter } = await ingest(compressed, { 'content-encoding': 'gzip' });

    expect(response.status).toBe(202);
    const stored = await dependencies.payloadStore.get(`raw/orders/${messageIdOf(response)}`);
    expect(stored?.bytes.equals(compressed)).toBe(true);
    expect(stored?.contentEncoding).toBe('gzip');
    expect(starter.starts[0].input).toMatchObject({ contentEncoding: 'gzip', ...digestPayload(compressed) });
  });

  test('gzip message records its encoding', async () => {

    const { response } = await ingest(zlib.gzipSync(orderBytes), { 'content-encoding': 'gzip' });

    expect((await dependencies.trackingStore.getMessage(messageIdOf(response)))?.contentEncoding).toBe('gzip');
  });

  test('deflate and br bodies are accepted', async () => {

    const deflated = await ingest(zlib.deflateSync(orderBytes), { 'content-encoding': 'deflate' });
    const brotli = await ingest(zlib.brotliCompressSync(orderBytes), { 'content-encoding': 'br' });

    expect(deflated.response.status).toBe(202);
    expect(brotli.response.status).toBe(202);
  });

  test('unencoded body has no stored encoding', async () => {

    const { response, starter } = await ingest(orderBytes, { 'content-encoding': 'identity' });

    const stored = await dependencies.payloadStore.get(`raw/orders/${messageIdOf(response)}`);
    expect(stored?.contentEncoding).toBeUndefined();
    expect(starter.starts[0].input.contentEncoding).toBeUndefined();
  });

  test('compression bomb gets 413 and stores nothing', async () => {
    // 2 MiB of spaces compress to about 2 KiB, under maxBodyBytes, and expand past maxDecodedBytes.
    const bomb = zlib.gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20), { level: 9 });
    expect(bomb.length).toBeLessThan(4096);

    const { response, starter } = await ingest(bomb, { 'content-encoding': 'gzip' });

    expect(response.status).toBe(413);
    expect(problemOf(response).detail).toContain('decodes to more than 2048 bytes');
    expect(starter.starts).toHaveLength(0);
    expect(dependencies.trackingStore.db.prepare('SELECT COUNT(*) AS count FROM messages').get()).toEqual({ count: 0 });
  });

  test('unknown encoding gets 415 naming it and the supported ones', async () => {

    const { response } = await ingest(orderBytes, { 'content-encoding': 'zstd' });

    expect(response.status).toBe(415);
    expect(problemOf(response).detail).toContain('Content-Encoding "zstd" is not supported');
    expect(problemOf(response).detail).toContain('gzip, deflate, br');
  });

  test('invalid JSON inside gzip gets 400', async () => {

    const { response } = await ingest(zlib.gzipSync(Buffer.from('{"orderId": ')), { 'content-encoding': 'gzip' });

    expect(response.status).toBe(400);
    expect(problemOf(response).title).toBe('Invalid JSON');
  });

  test('byte order mark is accepted and stored', async () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), orderBytes]);

    const { response } = await ingest(withBom);

    expect(response.status).toBe(202);
    const stored = await dependencies.payloadStore.get(`raw/orders/${messageIdOf(response)}`);
    expect(stored?.bytes.equals(withBom)).toBe(true);
  });

  test('NDJSON on a connector that accepts it is stored with its type', async () => {
    const ndjson = Buffer.from('{"a":1}\n{"a":2}\n');

    const { response } = await ingest(ndjson, { 'content-type': 'application/x-ndjson' }, 'feed');

    expect(response.status).toBe(202);
    const stored = await dependencies.payloadStore.get(`raw/feed/${messageIdOf(response)}`);
    expect(stored?.bytes.equals(ndjson)).toBe(true);
    expect(stored?.contentType).toBe('application/x-ndjson');
  });

  test('opaque body is not parsed as JSON', async () => {

    const { response } = await ingest(Buffer.from('id;name\n1;Zoë\n'), { 'content-type': 'text/csv; charset=utf-8' }, 'feed');

    expect(response.status).toBe(202);
  });

  test('NDJSON on a JSON-only connector gets 415 naming the accepted types', async () => {

    const { response } = await ingest(Buffer.from('{"a":1}\n'), { 'content-type': 'application/x-ndjson' });

    expect(response.status).toBe(415);
    expect(problemOf(response).detail).toContain('Content-Type "application/x-ndjson" is not accepted by connector orders');
  });

  test('missing Content-Type is named', async () => {
    const { response } = await ingest(Buffer.from('{"a":1}'), { 'content-type': '' });

    expect(response.status).toBe(415);
    expect(problemOf(response).detail).toBe('The Content-Type header is missing. Connector orders accepts: application/json, application/<subtype>+json.');
  });
});
