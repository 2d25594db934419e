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
  function addMessage(messageId: string, seconds: number, options: { connectorId?: string; dedupKey?: string; accept?: boolean } = {}): void {
    const connectorId = options.connectorId ?? 'orders';
    store.claimMessage({
      messageId,
      connectorId,
      dedupKeyHash: options.dedupKey === undefined ? undefined : hashDedupKey(options.dedupKey),
      claimToken: `token-${messageId}`,
      now: secondsAfterStart(seconds),
    });
    if (options.accept !== false) {
      store.markAccepted(messageId, `token-${messageId}`, { rawBlobName: `raw/${connectorId}/${messageId}`, sizeInBytes: 2, sha256: 'ab'.repeat(32), contentType: 'application/json' });
    }
  }

  function listIds(query: Parameters<TrackingStore['listMessages']>[0]): string[] {
    return store.listMessages(query).messages.map((message) => message.messageId);
  }

  test('lists newest first', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 3);
    addMessage('orders-c', 2);

    expect(listIds({ limit: 10 })).toEqual(['orders-b', 'orders-c', 'orders-a']);
  });

  test('orders equal times by message id', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 1);

    expect(listIds({ limit: 10 })).toEqual(['orders-b', 'orders-a']);
  });

  test('leaves out messages still being received', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 2, { accept: false });

    expect(listIds({ limit: 10 })).toEqual(['orders-a']);
  });

  test('filters by connector', () => {
    addMessage('orders-a', 1);
    addMessage('invoices-a', 2, { connectorId: 'invoices' });

    expect(listIds({ limit: 10, connectorId: 'invoices' })).toEqual(['invoices-a']);
  });

  test('filters by outcome', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 2);
    addMessage('orders-c', 3);
    store.setMessageOutcome('orders-a', 'delivered', undefined, secondsAfterStart(5).toISOString());
    store.setMessageOutcome('orders-b', 'deadLettered', 'destination erp: HTTP 400', secondsAfterStart(5).toISOString());

    expect(listIds({ limit: 10, outcome: 'delivered' })).toEqual(['orders-a']);
    expect(listIds({ limit: 10, outcome: 'deadLettered' })).toEqual(['orders-b']);
    expect(listIds({ limit: 10, outcome: 'pending' })).toEqual(['orders-c']);
  });

  test('filters by entity key', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 2);
    store.setMessageEntity('orders-a', { type: 'order', key: '1001', version: 1 });
    store.setMessageEntity('orders-b', { type: 'order', key: '1002', version: 1 });

    expect(listIds({ limit: 10, entityKey: '1002' })).toEqual(['orders-b']);
  });

  test('filters by dedup key hash', () => {
    addMessage('orders-a', 1, { dedupKey: 'evt-1' });
    addMessage('orders-b', 2, { dedupKey: 'evt-2' });

    expect(listIds({ limit: 10, dedupKeyHash: hashDedupKey('evt-1') })).toEqual(['orders-a']);
  });

  test('filters by destination of a delivery or an attempt', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 2);
    addMessage('orders-c', 3);
    addMessage('orders-d', 4);
    const updatedAt = secondsAfterStart(5).toISOString();
    store.upsertDelivery({ messageId: 'orders-a', destinationId: 'erp', outcome: 'delivered', attempts: 1, updatedAt });
    store.recordAttempt({ messageId: 'orders-b', destinationId: 'erp', attemptNumber: 1, startedAt: updatedAt, outcome: 'delivered', durationInMilliseconds: 3 });
    store.upsertDelivery({ messageId: 'orders-c', destinationId: 'erp', outcome: 'filtered', attempts: 0, updatedAt });
    store.upsertDelivery({ messageId: 'orders-d', destinationId: 'crm', outcome: 'delivered', attempts: 1, updatedAt });

    expect(listIds({ limit: 10, destinationId: 'erp' })).toEqual(['orders-b', 'orders-a']);
  });

  test('filters by receive time, from inclusive and to exclusive', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 2);
    addMessage('orders-c', 3);

    expect(listIds({ limit: 10, receivedFrom: secondsAfterStart(2).toISOString(), receivedTo: secondsAfterStart(3).toISOString() })).toEqual(['orders-b']);
  });

  test('continues across pages without repeats', () => {
    for (let index = 0; index < 7; index++) {
      addMessage(`orders-${index}`, index % 3);
    }

    const seen: string[] = [];
    let page = store.listMessages({ limit: 3 });
    seen.push(...page.messages.map((message) => message.messageId));
    let pages = 1;
    while (page.continuationToken !== undefined && pages < 10) {
      page = store.listMessages({ limit: 3, after: decodeContinuationToken(page.continuationToken) });
      seen.push(...page.messages.map((message) => message.messageId));
      pages++;
    }

    expect(pages).toBe(3);
    expect(seen).toEqual(['orders-5', 'orders-2', 'orders-4', 'orders-1', 'orders-6', 'orders-3', 'orders-0']);
  });

  test('last page has no token', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 2);

    expect(store.listMessages({ limit: 2 }).continuationToken).toBeUndefined();
  });

  test('page keeps its place when newer messages arrive', () => {
    addMessage('orders-a', 1);
    addMessage('orders-b', 2);
    addMessage('orders-c', 3);
    const first = store.listMessages({ limit: 2 });
    addMessage('orders-d', 4);

    const second = store.listMessages({ limit: 2, after: decodeContinuationToken(first.continuationToken ?? '') });

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
