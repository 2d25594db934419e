import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { hashDedupKey } from '../../lib/ids';
import { decodeContinuationToken, encodeContinuationToken, InvalidContinuationTokenError } from '../../lib/tracking/messageList';
import { openTrackingStore, type TrackingStore } from '../../lib/tracking/trackingStore';

const startTime = new Date('2024-05-01T10:00:00.000Z');

function secondsAfterStart(seconds: number): Date {
  return new Date(startTime.getTime() + seconds * 1000);
}

describe('listMessages', () => {
  let dataDir: string;
  let store: TrackingStore;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'message-list-'));
    store = openTrackingStore(dataDir);
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Claims and accepts a message received `seconds` after the start. */
  async function addMessage(messageId: string, seconds: number, options: { connectorId?: string; dedupKey?: string; accept?: boolean } = {}): Promise<void> {
    const connectorId = options.connectorId ?? 'orders';
    await store.claimMessage({
      messageId,
      connectorId,
      dedupKeyHash: options.dedupKey === undefined ? undefined : hashDedupKey(options.dedupKey),
      claimToken: `token-${messageId}`,
      now: secondsAfterStart(seconds),
    });
    if (options.accept !== false) {
      await store.markAccepted(messageId, `token-${messageId}`, { rawBlobName: `raw/${connectorId}/${messageId}`, sizeInBytes: 2, sha256: 'ab'.repeat(32), contentType: 'application/json' });
    }
  }

  async function listIds(query: Parameters<TrackingStore['listMessages']>[0]): Promise<string[]> {
    return (await store.listMessages(query)).messages.map((message) => message.messageId);
  }

  test('lists newest first', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 3);
    await addMessage('orders-c', 2);

    expect(await listIds({ limit: 10 })).toEqual(['orders-b', 'orders-c', 'orders-a']);
  });

  test('orders equal times by message id', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 1);

    expect(await listIds({ limit: 10 })).toEqual(['orders-b', 'orders-a']);
  });

  test('leaves out messages still being received', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2, { accept: false });

    expect(await listIds({ limit: 10 })).toEqual(['orders-a']);
  });

  test('filters by connector', async () => {
    await addMessage('orders-a', 1);
    await addMessage('invoices-a', 2, { connectorId: 'invoices' });

    expect(await listIds({ limit: 10, connectorId: 'invoices' })).toEqual(['invoices-a']);
  });

  test('filters by outcome', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2);
    await addMessage('orders-c', 3);
    await store.setMessageOutcome('orders-a', 'delivered', undefined, secondsAfterStart(5).toISOString());
    await store.setMessageOutcome('orders-b', 'deadLettered', 'destination erp: HTTP 400', secondsAfterStart(5).toISOString());

    expect(await listIds({ limit: 10, outcome: 'delivered' })).toEqual(['orders-a']);
    expect(await listIds({ limit: 10, outcome: 'deadLettered' })).toEqual(['orders-b']);
    expect(await listIds({ limit: 10, outcome: 'pending' })).toEqual(['orders-c']);
  });

  test('filters by entity key', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2);
    await store.setMessageEntity('orders-a', { type: 'order', key: '1001', version: 1 });
    await store.setMessageEntity('orders-b', { type: 'order', key: '1002', version: 1 });

    expect(await listIds({ limit: 10, entityKey: '1002' })).toEqual(['orders-b']);
  });

  test('filters by dedup key hash', async () => {
    await addMessage('orders-a', 1, { dedupKey: 'evt-1' });
    await addMessage('orders-b', 2, { dedupKey: 'evt-2' });

    expect(await listIds({ limit: 10, dedupKeyHash: hashDedupKey('evt-1') })).toEqual(['orders-a']);
  });

  test('filters by destination of a delivery or an attempt', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2);
    await addMessage('orders-c', 3);
    await addMessage('orders-d', 4);
    const updatedAt = secondsAfterStart(5).toISOString();
    await store.upsertDelivery({ messageId: 'orders-a', destinationId: 'erp', outcome: 'delivered', attempts: 1, updatedAt });
    await store.recordAttempt({ messageId: 'orders-b', destinationId: 'erp', attemptNumber: 1, startedAt: updatedAt, outcome: 'delivered', durationInMilliseconds: 3 });
    await store.upsertDelivery({ messageId: 'orders-c', destinationId: 'erp', outcome: 'filtered', attempts: 0, updatedAt });
    await store.upsertDelivery({ messageId: 'orders-d', destinationId: 'crm', outcome: 'delivered', attempts: 1, updatedAt });

    expect(await listIds({ limit: 10, destinationId: 'erp' })).toEqual(['orders-b', 'orders-a']);
  });

  test('filters by receive time, from inclusive and to exclusive', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2);
    await addMessage('orders-c', 3);

    expect(await listIds({ limit: 10, receivedFrom: secondsAfterStart(2).toISOString(), receivedTo: secondsAfterStart(3).toISOString() })).toEqual(['orders-b']);
  });

  test('continues across pages without repeats', async () => {
    for (let index = 0; index < 7; index++) {
      await addMessage(`orders-${index}`, index % 3);
    }

    const seen: string[] = [];
    let page = await store.listMessages({ limit: 3 });
    seen.push(...page.messages.map((message) => message.messageId));
    let pages = 1;
    while (page.continuationToken !== undefined && pages < 10) {
      page = await store.listMessages({ limit: 3, after: decodeContinuationToken(page.continuationToken) });
      seen.push(...page.messages.map((message) => message.messageId));
      pages++;
    }

    expect(pages).toBe(3);
    expect(seen).toEqual(['orders-5', 'orders-2', 'orders-4', 'orders-1', 'orders-6', 'orders-3', 'orders-0']);
  });

  test('last page has no token', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2);

    expect((await store.listMessages({ limit: 2 })).continuationToken).toBeUndefined();
  });

  test('page keeps its place when newer messages arrive', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2);
    await addMessage('orders-c', 3);
    const first = await store.listMessages({ limit: 2 });
    await addMessage('orders-d', 4);

    const second = await store.listMessages({ limit: 2, after: decodeContinuationToken(first.continuationToken ?? '') });

    expect(second.messages.map((message) => message.messageId)).toEqual(['orders-a']);
  });

  test('token round-trips a position', () => {
    const position = { receivedAt: startTime.toISOString(), messageId: 'orders-a' };

    expect(decodeContinuationToken(encodeContinuationToken(position))).toEqual(position);
  });

  test.each(['not-a-token', Buffer.from('{"receivedAt":1}').toString('base64url'), Buffer.from('null').toString('base64url')])('bad token %s is rejected', (token) => {
    expect(() => decodeContinuationToken(token)).toThrow(InvalidContinuationTokenError);
  });
});
