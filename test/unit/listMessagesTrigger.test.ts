import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { hashDedupKey } from '../../lib/ids';
import { listMessages } from '../../triggers/messages';
import { createTestDependencies, ordersConnector, testNow, type TestDependencies } from './support/testDependencies';

function bodyOf(response: HttpResponseInit): any {
  return JSON.parse(response.body as string);
}

function listRequest(query: Record<string, string>): HttpRequest {
  const url = new URL('http://127.0.0.1:7071/api/messages');
  for (const [name, value] of Object.entries(query)) {
    url.searchParams.set(name, value);
  }
  return new HttpRequest({ method: 'GET', url: url.toString() });
}

describe('listMessages trigger', () => {
  let dependencies: TestDependencies;

  beforeEach(async () => {
    dependencies = createTestDependencies([ordersConnector(), { ...ordersConnector(), id: 'private', redact: ['/orderId'] }]);
    const store = dependencies.trackingStore;
    const messages = [
      { messageId: 'orders-a', connectorId: 'orders', dedupKey: 'evt-a', seconds: 1 },
      { messageId: 'orders-b', connectorId: 'orders', dedupKey: 'evt-b', seconds: 2 },
      { messageId: 'private-a', connectorId: 'private', dedupKey: 'evt-c', seconds: 3 },
    ];
    for (const message of messages) {
      const now = new Date(testNow.getTime() + message.seconds * 1000);
      await store.claimMessage({ messageId: message.messageId, connectorId: message.connectorId, dedupKeyHash: hashDedupKey(message.dedupKey), claimToken: 't', now });
      await store.markAccepted(message.messageId, 't', { rawBlobName: `raw/${message.messageId}`, sizeInBytes: 2, sha256: 'ab'.repeat(32), contentType: 'application/json' });
      await store.setMessageEntity(message.messageId, { type: 'order', key: `key-${message.messageId}`, version: 1 });
    }
    await store.setMessageOutcome('orders-a', 'delivered', undefined, testNow.toISOString());
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('lists summaries newest first', async () => {
    const response = await listMessages(listRequest({}), dependencies);
    const body = bodyOf(response);

    expect(response.status).toBe(200);
    expect(body.messages.map((message: any) => message.messageId)).toEqual(['private-a', 'orders-b', 'orders-a']);
    expect(body.messages[2]).toMatchObject({ connectorId: 'orders', outcome: 'delivered', entityKey: 'key-orders-a', replayOf: null });
    expect(body.messages[1].outcome).toBe('pending');
    expect(body.continuationToken).toBeNull();
  });

  test('hides entity keys of redacting connectors', async () => {
    const body = bodyOf(await listMessages(listRequest({ connectorId: 'private' }), dependencies));

    expect(body.messages[0].entityKey).toBe('[redacted]');
  });

  test('filters by dedup key', async () => {
    const body = bodyOf(await listMessages(listRequest({ dedupKey: 'evt-b' }), dependencies));

    expect(body.messages.map((message: any) => message.messageId)).toEqual(['orders-b']);
  });

  test('pages with the continuation token', async () => {
    const first = bodyOf(await listMessages(listRequest({ limit: '2' }), dependencies));
    const second = bodyOf(await listMessages(listRequest({ limit: '2', continuationToken: first.continuationToken }), dependencies));

    expect(first.messages).toHaveLength(2);
    expect(second.messages.map((message: any) => message.messageId)).toEqual(['orders-a']);
    expect(second.continuationToken).toBeNull();
  });

  test.each([
    ['limit', '0', 'an integer from 1 to 500'],
    ['limit', '501', 'an integer from 1 to 500'],
    ['limit', 'ten', 'an integer from 1 to 500'],
    ['outcome', 'failed', 'one of delivered, stale, deadLettered, filtered, pending'],
    ['receivedFrom', '2024-05-01', 'an ISO 8601 date-time with a time zone, such as 2026-12-04T12:00:00Z'],
    ['receivedTo', '2024-05-01T25:00:00Z', 'an ISO 8601 date-time with a time zone, such as 2026-12-04T12:00:00Z'],
    ['continuationToken', 'garbage', 'the continuationToken of the previous page, unchanged'],
  ])('rejects %s=%s', async (name, value, expected) => {
    const response = await listMessages(listRequest({ [name]: value }), dependencies);
    const body = bodyOf(response);

    expect(response.status).toBe(400);
    expect(body.type).toBe('urn:api-data-connector:problem:invalid-parameter');
    expect(body.parameter).toBe(name);
    expect(body.detail).toBe(`Query parameter ${name} is "${value}", but it must be ${expected}.`);
  });
});
