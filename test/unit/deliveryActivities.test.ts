import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { recordDelivery } from '../../activities/recordDelivery';
import { recordMessage } from '../../activities/recordMessage';
import { recordMessageOutcome } from '../../activities/recordMessageOutcome';
import { transformPayload } from '../../activities/transformPayload';
import type { ProcessMessageInput, TransformPayloadInput } from '../../lib/contracts';
import { PermanentError } from '../../lib/errors';
import { createTestDependencies, ordersConnector, testNow, type TestDependencies } from './support/testDependencies';

const messageId = 'orders-0123456789abcdef0123456789abcdef';
const originalMessageId = 'orders-fedcba9876543210fedcba9876543210';
const rawBlobName = `raw/orders/${messageId}`;

/** Returns the sample `orders` connector with a second destination that filters and transforms on its own. */
function fanOutConnector(): Record<string, any> {
  const connector = ordersConnector();
  connector.destinations.push({
    ...connector.destinations[0],
    id: 'large',
    filter: 'amount > 100',
    transform: { type: 'jsonata', expression: "{ 'ref': orderId }" },
  });
  return connector;
}

const processInput: ProcessMessageInput = {
  messageId,
  connectorId: 'orders',
  rawBlobName,
  receivedAt: testNow.toISOString(),
  contentType: 'application/json',
  sizeInBytes: 10,
  sha256: 'ab'.repeat(32),
};

const transformInput: TransformPayloadInput = { messageId, connectorId: 'orders', rawBlobName, destinationIds: ['erp', 'large'] };

let dependencies: TestDependencies;

beforeEach(() => {
  dependencies = createTestDependencies([fanOutConnector()]);
});

afterEach(() => {
  dependencies.dispose();
});

async function storeRaw(payload: unknown): Promise<void> {
  await dependencies.payloadStore.put(rawBlobName, Buffer.from(JSON.stringify(payload)), { contentType: 'application/json' });
}

async function claimMessage(): Promise<void> {
  await dependencies.trackingStore.claimMessage({ messageId, connectorId: 'orders', claimToken: 'token', now: testNow });
}

describe('recordMessage', () => {
  test('stores the configuration version', async () => {
    await claimMessage();

    await recordMessage(processInput, dependencies);

    const expected = dependencies.connectors.byId.get('orders')?.configurationVersion;
    expect((await dependencies.trackingStore.getMessage(messageId))?.configurationVersion).toBe(expected);
  });

  test('publishes message.received once', async () => {
    await recordMessage(processInput, dependencies);
    await recordMessage(processInput, dependencies);

    expect(dependencies.publishedEvents.map((event) => event.type)).toEqual(['message.received']);
  });

  test('replay plans only the chosen destinations', async () => {
    const replay = { originalMessageId, destinationIds: ['large'], retransform: false, reason: 'test', operator: 'alice' };

    const plan = await recordMessage({ ...processInput, replay }, dependencies);

    expect(plan.destinations.map((destination) => destination.destinationId)).toEqual(['large']);
  });

  test('replay of an unknown destination is a permanent error', async () => {
    const replay = { originalMessageId, destinationIds: ['nowhere'], retransform: false, reason: 'test', operator: 'alice' };
    const recording = recordMessage({ ...processInput, replay }, dependencies);

    await expect(recording).rejects.toBeInstanceOf(PermanentError);
    await expect(recording).rejects.toThrow('names destinations nowhere that connector orders does not have. Its destinations are erp, large');
  });
});

describe('recordMessage without entity', () => {
  /** Recreates the dependencies with the fan-out connector without its entity, optionally changed first. */
  function useConnectorWithoutEntity(change: (connector: Record<string, any>) => void = () => undefined): void {
    dependencies.dispose();
    const connector = fanOutConnector();
    delete connector.entity;
    change(connector);
    dependencies = createTestDependencies([connector]);
  }

  test('prepares payloads with a filtered destination', async () => {
    useConnectorWithoutEntity();
    await storeRaw({ orderId: '7', status: 'paid', amount: 5 });

    const plan = await recordMessage(processInput, dependencies);

    expect(plan.preparedPayloads).toEqual([
      { destinationId: 'erp', kind: 'deliver', payloadBlobName: `transformed/orders/${messageId}` },
      { destinationId: 'large', kind: 'filtered' },
    ]);
  });

  test('writes the transformed payload', async () => {
    useConnectorWithoutEntity();
    await storeRaw({ orderId: '7', status: 'paid', amount: 500 });

    await recordMessage(processInput, dependencies);

    const stored = await dependencies.payloadStore.get(`transformed/orders/${messageId}/large`);
    expect(JSON.parse(stored?.bytes.toString('utf8') ?? '')).toEqual({ ref: '7' });
  });

  test('writes pending rows and audits received and transformed', async () => {
    useConnectorWithoutEntity();
    await storeRaw({ orderId: '7', status: 'paid', amount: 5 });

    await recordMessage(processInput, dependencies);

    const deliveries = await dependencies.trackingStore.listDeliveries(messageId);
    expect(deliveries.map(({ destinationId, outcome }) => ({ destinationId, outcome }))).toEqual([{ destinationId: 'erp', outcome: 'pending' }]);
    const audit = await dependencies.trackingStore.listAudit(messageId);
    expect(audit.map((entry) => entry.step)).toEqual(['received', 'transformed']);
    expect(audit[1].detail).toEqual({
      destinations: [
        { destinationId: 'erp', kind: 'deliver', payloadBlobName: `transformed/orders/${messageId}` },
        { destinationId: 'large', kind: 'filtered' },
      ],
    });
  });

  test('failing destination transform fails only its destination', async () => {
    useConnectorWithoutEntity((connector) => {
      connector.destinations[1].filter = undefined;
      connector.destinations[1].transform = { type: 'jsonata', expression: "{ 'amount': $number(status) }" };
    });
    await storeRaw({ orderId: '7', status: 'paid', amount: 500 });

    const plan = await recordMessage(processInput, dependencies);

    expect(plan.preparedPayloads?.[0]).toEqual({ destinationId: 'erp', kind: 'deliver', payloadBlobName: `transformed/orders/${messageId}` });
    expect(plan.preparedPayloads?.[1]).toMatchObject({ destinationId: 'large', kind: 'failed', reason: expect.stringContaining('transform of destination large') });
  });

  test('failing connector transform is a permanent error', async () => {
    useConnectorWithoutEntity((connector) => {
      connector.transform.expression = 'missingField';
    });
    await storeRaw({ orderId: '7', status: 'paid', amount: 5 });

    const recording = recordMessage(processInput, dependencies);

    await expect(recording).rejects.toBeInstanceOf(PermanentError);
    await expect(recording).rejects.toThrow(`The transform of connector orders returned no value for message ${messageId}`);
  });

  test('replay without retransform prepares the original payloads', async () => {
    useConnectorWithoutEntity();
    await dependencies.trackingStore.upsertDelivery({
      messageId: originalMessageId,
      destinationId: 'large',
      payloadBlobName: `transformed/orders/${originalMessageId}/large`,
      outcome: 'delivered',
      attempts: 1,
      updatedAt: testNow.toISOString(),
    });
    const replay = { originalMessageId, rootMessageId: originalMessageId, retransform: false, reason: 'test', operator: 'alice' };

    const plan = await recordMessage({ ...processInput, replay }, dependencies);

    expect(plan.preparedPayloads?.[1]).toEqual({ destinationId: 'large', kind: 'deliver', payloadBlobName: `transformed/orders/${originalMessageId}/large` });
    expect(plan.preparedPayloads?.[0]).toMatchObject({ destinationId: 'erp', kind: 'failed', reason: expect.stringContaining('has no stored payload for destination erp') });
  });

  test('replay with a destinations subset prepares only those', async () => {
    useConnectorWithoutEntity();
    await storeRaw({ orderId: '7', status: 'paid', amount: 500 });
    const replay = { originalMessageId, rootMessageId: originalMessageId, destinationIds: ['large'], retransform: true, reason: 'test', operator: 'alice' };

    const plan = await recordMessage({ ...processInput, replay }, dependencies);

    expect(plan.preparedPayloads).toEqual([{ destinationId: 'large', kind: 'deliver', payloadBlobName: `transformed/orders/${messageId}/large` }]);
  });

  test('connector with entity prepares nothing', async () => {
    await storeRaw({ orderId: '7', status: 'paid', amount: 5 });

    const plan = await recordMessage(processInput, dependencies);

    expect(plan.preparedPayloads).toBeUndefined();
    expect((await dependencies.trackingStore.listAudit(messageId)).map((entry) => entry.step)).toEqual(['received']);
  });

  test('connector with Data Factory transform prepares nothing', async () => {
    useConnectorWithoutEntity((connector) => {
      connector.transform = { type: 'adf', pipelineName: 'transform-orders' };
    });
    await storeRaw({ orderId: '7', status: 'paid', amount: 5 });

    const plan = await recordMessage(processInput, dependencies);

    expect(plan.preparedPayloads).toBeUndefined();
  });
});

describe('transformPayload per destination', () => {
  test('falsy filter marks the destination filtered', async () => {
    await storeRaw({ orderId: '7', status: 'paid', amount: 5 });

    const output = await transformPayload(transformInput, dependencies);

    expect(output.destinations).toEqual([
      { destinationId: 'erp', kind: 'deliver', payloadBlobName: `transformed/orders/${messageId}` },
      { destinationId: 'large', kind: 'filtered' },
    ]);
  });

  test('destination transform is stored under its own name', async () => {
    await storeRaw({ orderId: '7', status: 'paid', amount: 500 });

    await transformPayload(transformInput, dependencies);

    const stored = await dependencies.payloadStore.get(`transformed/orders/${messageId}/large`);
    expect(JSON.parse(stored?.bytes.toString('utf8') ?? '')).toEqual({ ref: '7' });
  });

  test('destinations to deliver to get a pending row', async () => {
    await storeRaw({ orderId: '7', status: 'paid', amount: 5 });

    await transformPayload(transformInput, dependencies);

    expect((await dependencies.trackingStore.listDeliveries(messageId)).map(({ destinationId, outcome }) => ({ destinationId, outcome }))).toEqual([
      { destinationId: 'erp', outcome: 'pending' },
    ]);
  });

  test('failing filter fails only its destination', async () => {
    dependencies.dispose();
    const connector = fanOutConnector();
    connector.destinations[1].filter = '$number(status) > 1';
    dependencies = createTestDependencies([connector]);
    await storeRaw({ orderId: '7', status: 'paid', amount: 5 });

    const output = await transformPayload(transformInput, dependencies);

    expect(output.destinations[0].kind).toBe('deliver');
    expect(output.destinations[1]).toMatchObject({ destinationId: 'large', kind: 'failed' });
  });

  test('replay delivers the original payload', async () => {
    await dependencies.trackingStore.upsertDelivery({
      messageId: originalMessageId,
      destinationId: 'large',
      payloadBlobName: `transformed/orders/${originalMessageId}/large`,
      outcome: 'delivered',
      attempts: 1,
      updatedAt: testNow.toISOString(),
    });
    const replay = { originalMessageId, retransform: false, reason: 'test', operator: 'alice' };

    const output = await transformPayload({ ...transformInput, replay }, dependencies);

    expect(output.destinations[1]).toEqual({ destinationId: 'large', kind: 'deliver', payloadBlobName: `transformed/orders/${originalMessageId}/large` });
  });

  test('replay without an original payload fails that destination', async () => {
    const replay = { originalMessageId, retransform: false, reason: 'test', operator: 'alice' };

    const output = await transformPayload({ ...transformInput, replay }, dependencies);

    expect(output.destinations[0]).toMatchObject({
      destinationId: 'erp',
      kind: 'failed',
      reason: expect.stringContaining(`Message ${originalMessageId} has no stored payload for destination erp`),
    });
  });
});

describe('recordDelivery', () => {
  const deadLetter = { messageId, connectorId: 'orders', destinationId: 'erp', outcome: 'deadLettered' as const, reason: 'deadline after 3 attempts', attempts: 3, statusCode: 503 };

  test('pending delivery writes no audit entry', async () => {
    await recordDelivery({ ...deadLetter, outcome: 'pending' }, dependencies);

    expect((await dependencies.trackingStore.listDeliveries(messageId))[0].outcome).toBe('pending');
    expect(await dependencies.trackingStore.listAudit(messageId)).toEqual([]);
  });

  test('dead letter is audited under the destination id', async () => {
    await recordDelivery(deadLetter, dependencies);

    expect((await dependencies.trackingStore.listAudit(messageId))[0]).toMatchObject({ step: 'deadLettered', key: 'erp', detail: { reason: 'deadline after 3 attempts' } });
  });

  test('dead letter publishes one event', async () => {
    await recordDelivery(deadLetter, dependencies);
    await recordDelivery(deadLetter, dependencies);

    expect(dependencies.publishedEvents).toHaveLength(1);
    expect(dependencies.publishedEvents[0]).toMatchObject({ type: 'message.deadlettered', data: { destinationId: 'erp', reason: 'deadline after 3 attempts' } });
  });
});

describe('recordMessageOutcome', () => {
  beforeEach(async () => {
    await claimMessage();
  });

  test('delivered message stores its outcome', async () => {
    await recordMessageOutcome({ messageId, connectorId: 'orders', outcome: 'delivered' }, dependencies);

    expect(await dependencies.trackingStore.getMessage(messageId)).toMatchObject({ outcome: 'delivered', completedAt: testNow.toISOString() });
    expect(dependencies.publishedEvents.map((event) => event.type)).toEqual(['message.delivered']);
  });

  test('stale message publishes message.stale', async () => {
    await recordMessageOutcome({ messageId, connectorId: 'orders', outcome: 'stale', reason: 'version 1 is not newer than 2' }, dependencies);

    expect(dependencies.publishedEvents.map((event) => event.type)).toEqual(['message.stale']);
  });

  test('dead letter is audited as failed', async () => {
    await recordMessageOutcome({ messageId, connectorId: 'orders', outcome: 'deadLettered', reason: 'destination erp: deadline' }, dependencies);

    expect((await dependencies.trackingStore.getMessage(messageId))?.outcomeReason).toBe('destination erp: deadline');
    expect((await dependencies.trackingStore.listAudit(messageId))[0]).toMatchObject({ step: 'failed', detail: { outcome: 'deadLettered' } });
  });

  test('failure before delivery publishes one dead letter', async () => {
    const failure = { messageId, connectorId: 'orders', outcome: 'deadLettered' as const, reason: 'the entity key expression "orderId" returned no value' };
    await recordMessageOutcome(failure, dependencies);
    await recordMessageOutcome(failure, dependencies);

    expect(dependencies.publishedEvents).toHaveLength(1);
    expect(dependencies.publishedEvents[0]).toMatchObject({ type: 'message.deadlettered', data: { destinationId: null, reason: failure.reason, attempts: 0 } });
  });

  test('dead letter with destination results publishes nothing more', async () => {
    const destinations = [{ destinationId: 'erp', outcome: 'deadLettered' as const, attempts: 3, reason: 'deadline after 3 attempts' }];
    await recordMessageOutcome({ messageId, connectorId: 'orders', outcome: 'deadLettered', reason: 'destination erp: deadline', destinations }, dependencies);

    expect(dependencies.publishedEvents).toEqual([]);
  });
});
