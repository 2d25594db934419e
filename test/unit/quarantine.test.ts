import zlib from 'node:zlib';
import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseConnectors } from '../../lib/config/loadConnectors';
import { createMessageId } from '../../lib/ids';
import { digestPayload } from '../../lib/payloadStore/PayloadStore';
import type { NewQuarantinedPayload } from '../../lib/quarantine/types';
import { signHmacSha256 } from './support/signHmacSha256';
import { ingestMessage } from '../../triggers/ingest';
import { listQuarantine, readQuarantined, releaseQuarantined } from '../../triggers/quarantine';
import { createRecordingStarter } from './support/recordingStarter';
import { createTestDependencies, ordersConnector, testNow, testSecret, type TestDependencies } from './support/testDependencies';

const strictSchema = {
  type: 'object',
  required: ['orderId', 'customer'],
  properties: { orderId: { type: 'string' }, customer: { type: 'object', required: ['email'] } },
};
const relaxedSchema = { type: 'object', required: ['orderId'] };

function connectorWithSchema(schema: Record<string, unknown>): Record<string, any> {
  const connector = ordersConnector();
  connector.inbound = { ...connector.inbound, schema };
  return connector;
}

const invalidOrder = Buffer.from(JSON.stringify({ orderId: '1001', status: 'paid', updatedAt: '2024-05-01T09:00:00Z', customer: {} }));

function signedRequest(bytes: Buffer, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://127.0.0.1:7071/api/connectors/orders/messages',
    body: { bytes },
    headers: { 'content-type': 'application/json', 'x-signature': signHmacSha256(bytes, testSecret), ...headers },
    params: { connectorId: 'orders' },
  });
}

function bodyOf(response: HttpResponseInit): Record<string, any> {
  return JSON.parse(response.body as string) as Record<string, any>;
}

function listRequest(query: Record<string, string> = {}): HttpRequest {
  const url = new URL('http://127.0.0.1:7071/api/quarantine');
  Object.entries(query).forEach(([name, value]) => url.searchParams.set(name, value));
  return new HttpRequest({ method: 'GET', url: url.toString() });
}

describe('QuarantineStore', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    dependencies = createTestDependencies();
  });

  afterEach(() => {
    dependencies.dispose();
  });

  function entry(quarantineId: string, connectorId: string, receivedAt: string): NewQuarantinedPayload {
    return {
      quarantineId,
      connectorId,
      receivedAt,
      reason: 'the payload does not match the JSON Schema',
      errors: [{ pointer: '/orderId', message: 'must be string' }],
      payloadBlobName: `quarantine/${connectorId}/${quarantineId}`,
      sizeInBytes: 12,
      sha256: 'ab'.repeat(32),
      contentType: 'application/json',
      contentEncoding: 'gzip',
      dedupKey: 'evt-1',
    };
  }

  test('insert and get round-trip every field', async () => {
    const payload = entry('a'.repeat(32), 'orders', '2024-05-01T10:00:00.000Z');

    expect(await dependencies.quarantineStore.insert(payload)).toBe(true);

    expect(await dependencies.quarantineStore.get(payload.quarantineId)).toEqual({ ...payload, state: 'quarantined' });
  });

  test('second insert of one id is ignored', async () => {
    const payload = entry('a'.repeat(32), 'orders', '2024-05-01T10:00:00.000Z');
    await dependencies.quarantineStore.insert(payload);

    expect(await dependencies.quarantineStore.insert({ ...payload, reason: 'other' })).toBe(false);
    expect((await dependencies.quarantineStore.get(payload.quarantineId))?.reason).toBe(payload.reason);
  });

  test('list filters by connector, newest first, up to top', async () => {
    await dependencies.quarantineStore.insert(entry('1'.repeat(32), 'orders', '2024-05-01T10:00:00.000Z'));
    await dependencies.quarantineStore.insert(entry('2'.repeat(32), 'orders', '2024-05-01T11:00:00.000Z'));
    await dependencies.quarantineStore.insert(entry('3'.repeat(32), 'orders', '2024-05-01T12:00:00.000Z'));
    await dependencies.quarantineStore.insert(entry('4'.repeat(32), 'shipments', '2024-05-01T13:00:00.000Z'));

    const listed = await dependencies.quarantineStore.list({ connectorId: 'orders', top: 2 });

    expect(listed.map((payload) => payload.quarantineId)).toEqual(['3'.repeat(32), '2'.repeat(32)]);
  });

  test('markReleased succeeds once', async () => {
    const payload = entry('a'.repeat(32), 'orders', '2024-05-01T10:00:00.000Z');
    await dependencies.quarantineStore.insert(payload);

    expect(await dependencies.quarantineStore.markReleased(payload.quarantineId, 'orders-1', testNow)).toBe(true);
    expect(await dependencies.quarantineStore.markReleased(payload.quarantineId, 'orders-2', testNow)).toBe(false);
    expect(await dependencies.quarantineStore.get(payload.quarantineId)).toMatchObject({ state: 'released', messageId: 'orders-1', releasedAt: testNow.toISOString() });
  });
});

describe('quarantine of schema violations', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    dependencies = createTestDependencies([connectorWithSchema(strictSchema)]);
  });

  afterEach(() => {
    dependencies.dispose();
  });

  async function sendInvalid(bytes: Buffer = invalidOrder, headers: Record<string, string> = { 'webhook-id': 'evt-1' }) {
    const starter = createRecordingStarter();
    const response = await ingestMessage(signedRequest(bytes, headers), starter, dependencies);
    return { response, starter, problem: bodyOf(response) };
  }

  test('violation gets 422 with pointers', async () => {
    const { response, problem } = await sendInvalid();

    expect(response.status).toBe(422);
    expect((response.headers as Record<string, string>)['Content-Type']).toBe('application/problem+json');
    expect(problem.errors).toEqual([{ pointer: '/customer/email', message: 'required property "email" is missing' }]);
    expect(problem.detail).toContain(`kept in quarantine as ${problem.quarantineId}`);
  });

  test('violation starts nothing and claims no message', async () => {
    const { starter } = await sendInvalid();

    expect(starter.starts).toHaveLength(0);
    expect(await dependencies.trackingStore.getMessage(createMessageId('orders', 'evt-1'))).toBeUndefined();
  });

  test('quarantine keeps the exact bytes and metadata', async () => {
    const { problem } = await sendInvalid();

    const entry = await dependencies.quarantineStore.get(problem.quarantineId);
    expect(entry).toMatchObject({
      connectorId: 'orders',
      receivedAt: testNow.toISOString(),
      contentType: 'application/json',
      dedupKey: 'evt-1',
      state: 'quarantined',
      ...digestPayload(invalidOrder),
    });
    expect(entry?.reason).toContain('/customer/email required property "email" is missing');
    const stored = await dependencies.payloadStore.get(`quarantine/orders/${problem.quarantineId}`);
    expect(stored?.bytes.equals(invalidOrder)).toBe(true);
  });

  test('violation is audited as rejected', async () => {
    const { problem } = await sendInvalid();

    expect((await dependencies.trackingStore.listAudit(problem.quarantineId)).map((entry) => entry.step)).toEqual(['rejected']);
  });

  test('repeat of the same payload and dedup key keeps one entry', async () => {
    const first = await sendInvalid();
    dependencies.clock = () => new Date(testNow.getTime() + 1000);

    const second = await sendInvalid();

    expect(second.problem.quarantineId).toBe(first.problem.quarantineId);
    expect(await dependencies.quarantineStore.list({ top: 10 })).toHaveLength(1);
    expect(await dependencies.trackingStore.listAudit(first.problem.quarantineId)).toHaveLength(2);
  });

  test('gzip payload is quarantined compressed', async () => {
    const compressed = zlib.gzipSync(invalidOrder);

    const { problem } = await sendInvalid(compressed, { 'webhook-id': 'evt-gzip', 'content-encoding': 'gzip' });

    const stored = await dependencies.payloadStore.get(`quarantine/orders/${problem.quarantineId}`);
    expect(stored?.bytes.equals(compressed)).toBe(true);
    expect(stored?.contentEncoding).toBe('gzip');
    expect((await dependencies.quarantineStore.get(problem.quarantineId))?.contentEncoding).toBe('gzip');
  });

  test('payload store failure gets 503 and records nothing', async () => {
    dependencies.payloadStore.put = async () => {
      throw new Error('disk full');
    };

    const { response } = await sendInvalid();

    expect(response.status).toBe(503);
    expect(await dependencies.quarantineStore.list({ top: 10 })).toHaveLength(0);
  });

  test('list shows metadata without bytes or errors', async () => {
    const { problem } = await sendInvalid();

    const response = await listQuarantine(listRequest({ connectorId: 'orders' }), dependencies);

    expect(response.status).toBe(200);
    const [listed] = bodyOf(response).payloads;
    expect(listed).toMatchObject({ quarantineId: problem.quarantineId, connectorId: 'orders', state: 'quarantined', errorCount: 1 });
    expect(listed).not.toHaveProperty('errors');
    expect(listed).not.toHaveProperty('bytes');
  });

  test('list rejects an invalid top', async () => {
    for (const top of ['0', '1001', 'ten', '-1']) {
      const response = await listQuarantine(listRequest({ top }), dependencies);

      expect(response.status, top).toBe(400);
    }
  });

  test('read shows reason, errors and audit', async () => {
    const { problem } = await sendInvalid();

    const response = await readQuarantined(problem.quarantineId, dependencies);

    expect(response.status).toBe(200);
    expect(bodyOf(response)).toMatchObject({ quarantineId: problem.quarantineId, errors: problem.errors, audit: [{ step: 'rejected' }] });
    expect(bodyOf(response).reason).toContain('does not match the JSON Schema');
  });

  test('read of unknown id gets 404', async () => {
    expect((await readQuarantined('0'.repeat(32), dependencies)).status).toBe(404);
    expect((await readQuarantined('../etc', dependencies)).status).toBe(404);
  });
});

describe('releaseQuarantined', () => {
  let dependencies: TestDependencies;
  let quarantineId: string;

  beforeEach(async () => {
    dependencies = createTestDependencies([connectorWithSchema(strictSchema)]);
    const response = await ingestMessage(signedRequest(invalidOrder, { 'webhook-id': 'evt-1' }), createRecordingStarter(), dependencies);
    quarantineId = bodyOf(response).quarantineId as string;
  });

  afterEach(() => {
    dependencies.dispose();
  });

  function relaxSchema(): void {
    dependencies.connectors = parseConnectors(JSON.stringify({ connectors: [connectorWithSchema(relaxedSchema)] }), 'connectors.json');
  }

  test('still invalid payload gets 422 and stays quarantined', async () => {
    const starter = createRecordingStarter();

    const response = await releaseQuarantined(quarantineId, starter, dependencies);

    expect(response.status).toBe(422);
    expect(bodyOf(response).errors).toEqual([{ pointer: '/customer/email', message: 'required property "email" is missing' }]);
    expect(bodyOf(response).detail).toContain('restart the host and release the payload again');
    expect(starter.starts).toHaveLength(0);
    expect((await dependencies.quarantineStore.get(quarantineId))?.state).toBe('quarantined');
  });

  test('valid payload is ingested under its dedup key', async () => {
    relaxSchema();
    const starter = createRecordingStarter();

    const response = await releaseQuarantined(quarantineId, starter, dependencies);

    const messageId = createMessageId('orders', 'evt-1');
    expect(response.status).toBe(202);
    expect(bodyOf(response)).toEqual({ messageId });
    expect(starter.starts).toEqual([{ name: 'processMessage', instanceId: messageId, input: expect.objectContaining({ rawBlobName: `raw/orders/${messageId}` }) }]);
    const stored = await dependencies.payloadStore.get(`raw/orders/${messageId}`);
    expect(stored?.bytes.equals(invalidOrder)).toBe(true);
  });

  test('release marks the entry and audits both sides', async () => {
    relaxSchema();

    await releaseQuarantined(quarantineId, createRecordingStarter(), dependencies);

    const messageId = createMessageId('orders', 'evt-1');
    expect(await dependencies.quarantineStore.get(quarantineId)).toMatchObject({ state: 'released', messageId });
    expect((await dependencies.trackingStore.listAudit(quarantineId)).map((entry) => entry.step)).toEqual(['rejected', 'released']);
    expect((await dependencies.trackingStore.listAudit(messageId)).map((entry) => entry.step)).toEqual(['releasedFromQuarantine']);
  });

  test('second release gets 409 with the message id', async () => {
    relaxSchema();
    await releaseQuarantined(quarantineId, createRecordingStarter(), dependencies);

    const response = await releaseQuarantined(quarantineId, createRecordingStarter(), dependencies);

    expect(response.status).toBe(409);
    expect(bodyOf(response).messageId).toBe(createMessageId('orders', 'evt-1'));
  });

  test('dedup key of an accepted message gets 200 with that message', async () => {
    relaxSchema();
    const corrected = Buffer.from(JSON.stringify({ orderId: '1001', status: 'paid', updatedAt: '2024-05-01T09:00:00Z', customer: { email: 'a@example.com' } }));
    await ingestMessage(signedRequest(corrected, { 'webhook-id': 'evt-1' }), createRecordingStarter(), dependencies);
    const starter = createRecordingStarter();

    const response = await releaseQuarantined(quarantineId, starter, dependencies);

    expect(response.status).toBe(200);
    expect(starter.starts).toHaveLength(0);
    expect((await dependencies.quarantineStore.get(quarantineId))?.state).toBe('released');
  });

  test('payload without dedup key gets one message id per entry', async () => {
    const response = await ingestMessage(signedRequest(invalidOrder), createRecordingStarter(), dependencies);
    const withoutKeyId = bodyOf(response).quarantineId as string;
    relaxSchema();

    const released = await releaseQuarantined(withoutKeyId, createRecordingStarter(), dependencies);

    expect(released.status).toBe(202);
    expect(bodyOf(released).messageId).toBe(createMessageId('orders', `quarantine:${withoutKeyId}`));
  });

  test('unknown id gets 404', async () => {
    const response = await releaseQuarantined('f'.repeat(32), createRecordingStarter(), dependencies);

    expect(response.status).toBe(404);
  });

  test('removed connector gets 409', async () => {
    const other = ordersConnector();
    other.id = 'shipments';
    dependencies.connectors = parseConnectors(JSON.stringify({ connectors: [other] }), 'connectors.json');

    const response = await releaseQuarantined(quarantineId, createRecordingStarter(), dependencies);

    expect(response.status).toBe(409);
    expect(bodyOf(response).detail).toContain('connector "orders", which is not in the connectors file');
  });
});
