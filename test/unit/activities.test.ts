import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { deliverPayload } from '../../activities/deliverPayload';
import { mirrorEntityState } from '../../activities/mirrorEntityState';
import { readEntityVersion } from '../../activities/readEntityVersion';
import { recordDelivery } from '../../activities/recordDelivery';
import { recordMessage } from '../../activities/recordMessage';
import { transformPayload } from '../../activities/transformPayload';
import { writeAudit } from '../../activities/writeAudit';
import type { DeliverPayloadInput, ProcessMessageInput, RecordDeliveryInput, TransformPayloadOutput } from '../../lib/contracts';
import { PermanentError } from '../../lib/errors';
import { createTestDependencies, ordersConnector, testNow, type TestDependencies } from './support/testDependencies';

const messageId = 'orders-0123456789abcdef0123456789abcdef';
const rawBlobName = `raw/orders/${messageId}`;
const payloadReference = { messageId, connectorId: 'orders', rawBlobName };
const transformInput = { ...payloadReference, destinationIds: ['erp'] };

/** Returns the payload store name that the transform chose for destination erp. */
function deliveredBlobNameOf(output: TransformPayloadOutput): string | undefined {
  const [destination] = output.destinations;
  return destination?.kind === 'deliver' ? destination.payloadBlobName : undefined;
}

async function storeRaw(dependencies: TestDependencies, payload: unknown): Promise<void> {
  await dependencies.payloadStore.put(rawBlobName, Buffer.from(JSON.stringify(payload)), { contentType: 'application/json' });
}

describe('recordMessage', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    dependencies = createTestDependencies();
  });

  afterEach(() => {
    dependencies.dispose();
  });

  const input: ProcessMessageInput = {
    messageId,
    connectorId: 'orders',
    rawBlobName,
    receivedAt: testNow.toISOString(),
    contentType: 'application/json',
    sizeInBytes: 10,
    sha256: 'ab'.repeat(32),
  };

  test('returns the delivery plan', async () => {
    const plan = await recordMessage(input, dependencies);

    expect(plan).toEqual({
      destinations: [
        {
          destinationId: 'erp',
          retry: expect.objectContaining({ maxAttempts: 3, firstIntervalInMilliseconds: 100, backoffCoefficient: 2, maxIntervalInMilliseconds: 60000 }),
          circuit: { failureThreshold: 5, coolDownInMilliseconds: 30000, probeLeaseInMilliseconds: 31000 },
          ordering: 'none',
        },
      ],
      hasEntity: true,
    });
  });

  test('audits the received step', async () => {
    await recordMessage(input, dependencies);

    const audit = await dependencies.trackingStore.listAudit(messageId);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ step: 'received', at: testNow.toISOString(), detail: { rawBlobName, sizeInBytes: 10 } });
  });

  test('re-run adds no second audit entry', async () => {
    await recordMessage(input, dependencies);
    await recordMessage(input, dependencies);

    expect(await dependencies.trackingStore.listAudit(messageId)).toHaveLength(1);
  });

  test('removed connector is a permanent error', async () => {
    await expect(recordMessage({ ...input, connectorId: 'shipments' }, dependencies)).rejects.toThrow(PermanentError);
    await expect(recordMessage({ ...input, connectorId: 'shipments' }, dependencies)).rejects.toThrow(
      'Connector shipments is not in the connectors file connectors.json',
    );
  });
});

describe('readEntityVersion', () => {
  let dependencies: TestDependencies;

  beforeEach(async () => {
    dependencies = createTestDependencies();
    await dependencies.trackingStore.claimMessage({ messageId, connectorId: 'orders', claimToken: 'token', now: testNow });
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('returns and stores the entity', async () => {
    await storeRaw(dependencies, { orderId: 123, updatedAt: '2024-05-01T09:00:00Z' });

    const output = await readEntityVersion(payloadReference, dependencies);

    expect(output).toEqual({ entity: { type: 'order', key: '123', version: '2024-05-01T09:00:00Z' } });
    expect((await dependencies.trackingStore.getMessage(messageId))?.entity).toEqual(output.entity);
    expect((await dependencies.trackingStore.listAudit(messageId)).map((entry) => entry.step)).toEqual(['entityRead']);
  });

  test('missing key is a permanent error', async () => {
    await storeRaw(dependencies, { updatedAt: '2024-05-01T09:00:00Z' });

    await expect(readEntityVersion(payloadReference, dependencies)).rejects.toThrow(PermanentError);
  });

  test('missing payload is a permanent error', async () => {
    await expect(readEntityVersion(payloadReference, dependencies)).rejects.toThrow(`Payload ${rawBlobName} of message ${messageId} is missing`);
  });

  test('connector without entity returns nothing', async () => {
    dependencies.dispose();
    const connector = ordersConnector();
    delete connector.entity;
    dependencies = createTestDependencies([connector]);
    await storeRaw(dependencies, { orderId: 1 });

    expect(await readEntityVersion(payloadReference, dependencies)).toEqual({});
  });
});

describe('transformPayload', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    dependencies = createTestDependencies();
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('writes the transformed payload', async () => {
    await storeRaw(dependencies, { orderId: '123', status: 'paid' });

    const output = await transformPayload(transformInput, dependencies);

    expect(deliveredBlobNameOf(output)).toBe(`transformed/orders/${messageId}`);
    const stored = await dependencies.payloadStore.get(deliveredBlobNameOf(output) ?? '');
    expect(JSON.parse(stored!.bytes.toString())).toEqual({ id: '123', state: 'paid' });
  });

  test('audits the transformed step', async () => {
    await storeRaw(dependencies, { orderId: '123', status: 'paid' });

    await transformPayload(transformInput, dependencies);

    expect((await dependencies.trackingStore.listAudit(messageId))[0]).toMatchObject({
      step: 'transformed',
      detail: { destinations: [{ destinationId: 'erp', kind: 'deliver', payloadBlobName: `transformed/orders/${messageId}` }] },
    });
  });

  test('without transform delivers the raw payload', async () => {
    dependencies.dispose();
    const connector = ordersConnector();
    delete connector.transform;
    dependencies = createTestDependencies([connector]);
    await storeRaw(dependencies, { orderId: '123' });

    const output = await transformPayload(transformInput, dependencies);

    expect(deliveredBlobNameOf(output)).toBe(rawBlobName);
  });

  test('empty result is a permanent error', async () => {
    dependencies.dispose();
    const connector = ordersConnector();
    connector.transform.expression = 'missingField';
    dependencies = createTestDependencies([connector]);
    await storeRaw(dependencies, { orderId: '123' });

    await expect(transformPayload(transformInput, dependencies)).rejects.toThrow(
      `The transform of connector orders returned no value for message ${messageId}`,
    );
  });
});

describe('mirrorEntityState and writeAudit', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    dependencies = createTestDependencies();
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('mirror returns the change version', async () => {
    const result = await mirrorEntityState({ messageId, connectorId: 'orders', entity: { type: 'order', key: '123', version: 2 } }, dependencies);

    expect(result).toEqual({ applied: true, changeVersion: 1 });
    expect((await dependencies.trackingStore.listChanges(0, 10)).changes[0]).toMatchObject({ entityKey: '123', version: 2, messageId });
  });

  test('writeAudit is idempotent per step and key', async () => {
    await writeAudit({ messageId, step: 'delivered', key: 'erp', detail: { statusCode: 200 } }, dependencies);
    await writeAudit({ messageId, step: 'delivered', key: 'erp', detail: { statusCode: 200 } }, dependencies);

    expect(await dependencies.trackingStore.listAudit(messageId)).toHaveLength(1);
  });
});

describe('deliverPayload', () => {
  const received: Array<{ path: string; idempotencyKey: string | undefined; correlationId: string | undefined; body: string }> = [];
  let server: http.Server;
  let baseUrl: string;
  let dependencies: TestDependencies;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        received.push({
          path,
          idempotencyKey: request.headers['idempotency-key'] as string | undefined,
          correlationId: request.headers['x-correlation-id'] as string | undefined,
          body: Buffer.concat(chunks).toString(),
        });
        const status = path.startsWith('/status/') ? Number(path.slice('/status/'.length)) : 200;
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end(`status ${status}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  afterEach(() => {
    dependencies.dispose();
  });

  async function prepare(targetUrl: string): Promise<DeliverPayloadInput> {
    dependencies = createTestDependencies([ordersConnector(targetUrl)]);
    const payloadBlobName = `transformed/orders/${messageId}`;
    await dependencies.payloadStore.put(payloadBlobName, Buffer.from('{"id":"123"}'), { contentType: 'application/json' });
    return {
      messageId,
      connectorId: 'orders',
      destinationId: 'erp',
      payloadBlobName,
      attemptNumber: 2,
      maxAttempts: 3,
      idempotencyKey: `${messageId}:erp`,
    };
  }

  test('delivered attempt returns the status code', async () => {
    const input = await prepare(`${baseUrl}/status/201`);

    const output = await deliverPayload(input, dependencies);

    expect(output.statusCode).toBe(201);
  });

  test('sends the payload with the idempotency key', async () => {
    const input = await prepare(`${baseUrl}/status/200`);

    await deliverPayload(input, dependencies);

    const request = received[received.length - 1];
    expect(request.body).toBe('{"id":"123"}');
    expect(request.idempotencyKey).toBe(`${messageId}:erp`);
  });

  test('records the attempt', async () => {
    const input = await prepare(`${baseUrl}/status/200`);

    await deliverPayload(input, dependencies);

    expect(await dependencies.trackingStore.listAttempts(messageId)).toEqual([
      expect.objectContaining({ destinationId: 'erp', attemptNumber: 2, startedAt: testNow.toISOString(), outcome: 'delivered', statusCode: 200, responseBodyStart: 'status 200' }),
    ]);
  });

  test('503 is returned as retryable', async () => {
    const input = await prepare(`${baseUrl}/status/503`);

    const output = await deliverPayload(input, dependencies);

    expect(output).toMatchObject({ outcome: 'retryable', statusCode: 503, error: 'HTTP 503 Service Unavailable' });
  });

  test('failed attempt is recorded', async () => {
    const input = await prepare(`${baseUrl}/status/503`);

    await deliverPayload(input, dependencies);

    expect((await dependencies.trackingStore.listAttempts(messageId))[0]).toMatchObject({ outcome: 'retryable', statusCode: 503, error: 'HTTP 503 Service Unavailable' });
  });

  test('400 is returned as permanent', async () => {
    const input = await prepare(`${baseUrl}/status/400`);

    const output = await deliverPayload(input, dependencies);

    expect(output).toMatchObject({ outcome: 'permanent', statusCode: 400, error: 'HTTP 400 Bad Request' });
  });

  test('410 disables the destination', async () => {
    const input = await prepare(`${baseUrl}/status/410`);

    const output = await deliverPayload(input, dependencies);

    expect(output.disablesDestination).toBe(true);
  });

  test('delivered output carries no failure fields', async () => {
    const input = await prepare(`${baseUrl}/status/200`);

    const output = await deliverPayload(input, dependencies);

    expect(Object.keys(output).sort()).toEqual(['deliveryRecorded', 'durationInMilliseconds', 'outcome', 'statusCode']);
  });

  test('delivered attempt writes the delivered row', async () => {
    const input = await prepare(`${baseUrl}/status/200`);

    const output = await deliverPayload(input, dependencies);

    expect(output.deliveryRecorded).toBe(true);
    expect(await dependencies.trackingStore.listDeliveries(messageId)).toEqual([
      expect.objectContaining({ destinationId: 'erp', payloadBlobName: input.payloadBlobName, outcome: 'delivered', attempts: 2, statusCode: 200 }),
    ]);
  });

  test('delivered attempt is audited under the destination id', async () => {
    const input = await prepare(`${baseUrl}/status/200`);

    await deliverPayload(input, dependencies);

    expect(await dependencies.trackingStore.listAudit(messageId)).toEqual([
      expect.objectContaining({ step: 'delivered', key: 'erp', detail: { destinationId: 'erp', attempts: 2, statusCode: 200, reason: null } }),
    ]);
  });

  test('delivered row matches what recordDelivery writes', async () => {
    const input = await prepare(`${baseUrl}/status/200`);
    const otherMessageId = 'orders-fedcba9876543210fedcba9876543210';

    await deliverPayload(input, dependencies);
    const record: RecordDeliveryInput = {
      messageId: otherMessageId,
      connectorId: 'orders',
      destinationId: 'erp',
      payloadBlobName: input.payloadBlobName,
      outcome: 'delivered',
      attempts: 2,
      statusCode: 200,
    };
    await recordDelivery(record, dependencies);

    const withoutMessageId = <T extends { messageId: string }>({ messageId: _messageId, ...rest }: T) => rest;
    const written = (await dependencies.trackingStore.listDeliveries(messageId)).map(withoutMessageId);
    const recorded = (await dependencies.trackingStore.listDeliveries(otherMessageId)).map(withoutMessageId);
    expect(written).toEqual(recorded);
    const writtenAudit = (await dependencies.trackingStore.listAudit(messageId)).map(withoutMessageId);
    const recordedAudit = (await dependencies.trackingStore.listAudit(otherMessageId)).map(withoutMessageId);
    expect(writtenAudit).toEqual(recordedAudit);
  });

  test('re-run adds no second delivered audit entry', async () => {
    const input = await prepare(`${baseUrl}/status/200`);

    await deliverPayload(input, dependencies);
    await deliverPayload(input, dependencies);

    expect(await dependencies.trackingStore.listAudit(messageId)).toHaveLength(1);
  });

  test('failed attempt writes no delivery row', async () => {
    const input = await prepare(`${baseUrl}/status/503`);

    const output = await deliverPayload(input, dependencies);

    expect(output.deliveryRecorded).toBe(false);
    expect(await dependencies.trackingStore.listDeliveries(messageId)).toEqual([]);
    expect(await dependencies.trackingStore.listAudit(messageId)).toEqual([]);
  });

  test('private address of a host name is blocked', async () => {
    const input = await prepare('https://erp.example.com/orders');
    dependencies.lookupAddresses = async () => ['10.0.0.5'];

    const output = await deliverPayload(input, dependencies);

    expect(output.outcome).toBe('permanent');
    expect((await dependencies.trackingStore.listAttempts(messageId))[0].error).toContain('blocked: address 10.0.0.5 of host erp.example.com');
  });

  test('failed address lookup is retryable', async () => {
    const input = await prepare('https://erp.example.com/orders');
    dependencies.lookupAddresses = async () => {
      throw new Error('getaddrinfo ENOTFOUND erp.example.com');
    };

    const output = await deliverPayload(input, dependencies);

    expect(output.outcome).toBe('retryable');
    expect((await dependencies.trackingStore.listAttempts(messageId))[0].error).toBe('address lookup of erp.example.com failed: getaddrinfo ENOTFOUND erp.example.com');
  });

  test('unknown destination throws a permanent error', async () => {
    const input = await prepare(`${baseUrl}/status/200`);

    await expect(deliverPayload({ ...input, destinationId: 'gone' }, dependencies)).rejects.toBeInstanceOf(PermanentError);
  });

  test('forwards the headers kept with the message', async () => {
    const connector = ordersConnector(`${baseUrl}/status/200`);
    connector.destinations[0].forwardHeaders = ['x-correlation-id'];
    dependencies = createTestDependencies([connector]);
    const payloadBlobName = `transformed/orders/${messageId}`;
    await dependencies.payloadStore.put(payloadBlobName, Buffer.from('{"id":"123"}'), { contentType: 'application/json' });
    const claimToken = 'claim-token';
    await dependencies.trackingStore.claimMessage({ messageId, connectorId: 'orders', claimToken, now: testNow });
    await dependencies.trackingStore.markAccepted(messageId, claimToken, {
      rawBlobName,
      sizeInBytes: 12,
      sha256: 'unused',
      contentType: 'application/json',
      forwardedHeaders: { 'x-correlation-id': 'corr-9' },
    });

    await deliverPayload(
      { messageId, connectorId: 'orders', destinationId: 'erp', payloadBlobName, attemptNumber: 1, maxAttempts: 3, idempotencyKey: `${messageId}:erp` },
      dependencies,
    );

    expect(received[received.length - 1].correlationId).toBe('corr-9');
  });
});
