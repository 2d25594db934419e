import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { NewBulkReplay } from '../../lib/tracking/replayStore';
import { openTrackingStore, type TrackingStore } from '../../lib/tracking/trackingStore';

const startTime = new Date('2024-05-01T10:00:00.000Z');

function secondsAfterStart(seconds: number): Date {
  return new Date(startTime.getTime() + seconds * 1000);
}

describe('ReplayStore', () => {
  let dataDir: string;
  let store: TrackingStore;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-store-'));
    store = openTrackingStore(dataDir);
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function addMessage(messageId: string, seconds: number, connectorId = 'orders'): Promise<void> {
    await store.claimMessage({ messageId, connectorId, claimToken: `token-${messageId}`, now: secondsAfterStart(seconds) });
    await store.markAccepted(messageId, `token-${messageId}`, { rawBlobName: `raw/${connectorId}/${messageId}`, sizeInBytes: 2, sha256: 'ab'.repeat(32), contentType: 'application/json' });
  }

  function createReplay(fields: Partial<NewBulkReplay> = {}) {
    return store.replays.createBulkReplay({
      replayId: 'replay-1',
      filter: { connectorId: 'orders' },
      reason: 'target fixed',
      operator: 'ops@example.com',
      retransform: false,
      requestsPerSecond: 5,
      createdAt: secondsAfterStart(100).toISOString(),
      ...fields,
    });
  }

  /** Takes every page of `limit` messages, advancing as the activity does, and returns the ids in order. */
  async function takeAllPages(limit: number): Promise<string[]> {
    const ids: string[] = [];
    for (let page = 0; page < 20; page++) {
      const positions = await store.replays.takeNextPage('replay-1', limit);
      if (positions.length === 0) {
        break;
      }
      ids.push(...positions.map((position) => position.messageId));
      await store.replays.advancePosition('replay-1', positions[positions.length - 1], secondsAfterStart(200).toISOString());
    }
    return ids;
  }

  test('dry run preview counts and lists the oldest', async () => {
    await addMessage('orders-a', 2);
    await addMessage('orders-b', 1);
    await addMessage('invoices-a', 3, 'invoices');

    expect(await store.replays.previewMatching({ connectorId: 'orders' }, 1)).toEqual({ total: 2, messageIds: ['orders-b'] });
  });

  test('replayed message is left to its replay', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2);
    const original = await store.getMessage('orders-a');
    await store.claimReplayMessage(original!, { messageId: 'orders-a-replay', claimToken: 'token-replay', now: secondsAfterStart(3) });
    await store.markAccepted('orders-a-replay', 'token-replay', { rawBlobName: 'raw/orders/orders-a', sizeInBytes: 2, sha256: 'ab'.repeat(32), contentType: 'application/json' });

    expect((await store.replays.previewMatching({ connectorId: 'orders' }, 10)).messageIds).toEqual(['orders-b', 'orders-a-replay']);
  });

  test('new replay is running with the total fixed', async () => {
    await addMessage('orders-a', 1);
    await addMessage('orders-b', 2);

    const replay = await createReplay();

    expect(replay).toMatchObject({ state: 'running', total: 2, replayed: 0, failed: 0, upperBound: { receivedAt: secondsAfterStart(2).toISOString(), messageId: 'orders-b' } });
  });

  test('pages go oldest first to the end', async () => {
    for (let index = 0; index < 5; index++) {
      await addMessage(`orders-${index}`, index);
    }
    await createReplay();

    expect(await takeAllPages(2)).toEqual(['orders-0', 'orders-1', 'orders-2', 'orders-3', 'orders-4']);
  });

  test('messages after the start are not replayed', async () => {
    await addMessage('orders-a', 1);
    await createReplay();
    await addMessage('orders-b', 200);

    expect(await takeAllPages(10)).toEqual(['orders-a']);
  });

  test('replays it created are not picked up', async () => {
    await addMessage('orders-a', 1);
    await createReplay();
    // A replay received in the same millisecond as its original, and sorted after it.
    await store.claimReplayMessage((await store.getMessage('orders-a'))!, { messageId: 'orders-b', claimToken: 'token-b', now: secondsAfterStart(1) });
    await store.markAccepted('orders-b', 'token-b', { rawBlobName: 'raw/orders/orders-a', sizeInBytes: 2, sha256: 'ab'.repeat(32), contentType: 'application/json' });
    await store.replays.recordItem('replay-1', { originalMessageId: 'orders-a', newMessageId: 'orders-b', at: secondsAfterStart(101).toISOString() });

    // orders-a is left out too, because it has been replayed.
    expect(await takeAllPages(10)).toEqual([]);
  });

  test('replay with no match has no pages', async () => {
    await createReplay();

    expect(await store.replays.takeNextPage('replay-1', 10)).toEqual([]);
  });

  test('item counts once', async () => {
    await addMessage('orders-a', 1);
    await createReplay();
    const item = { originalMessageId: 'orders-a', newMessageId: 'orders-new', at: secondsAfterStart(101).toISOString() };

    expect(await store.replays.recordItem('replay-1', item)).toBe(true);
    expect(await store.replays.recordItem('replay-1', item)).toBe(false);
    expect((await store.replays.getBulkReplay('replay-1'))?.replayed).toBe(1);
  });

  test('failed item counts as failed', async () => {
    await addMessage('orders-a', 1);
    await createReplay();

    await store.replays.recordItem('replay-1', { originalMessageId: 'orders-a', error: 'payload gone', at: secondsAfterStart(101).toISOString() });

    expect(await store.replays.getBulkReplay('replay-1')).toMatchObject({ replayed: 0, failed: 1 });
    expect(await store.replays.listItems('replay-1', false, 10)).toEqual([{ originalMessageId: 'orders-a', error: 'payload gone', at: secondsAfterStart(101).toISOString() }]);
  });

  test('cancel stops a running replay once', async () => {
    await createReplay();

    expect(await store.replays.cancelBulkReplay('replay-1', 'wrong filter', 'ops@example.com', secondsAfterStart(101).toISOString())).toBe(true);
    expect(await store.replays.cancelBulkReplay('replay-1', 'again', 'ops@example.com', secondsAfterStart(102).toISOString())).toBe(false);
    expect(await store.replays.getBulkReplay('replay-1')).toMatchObject({ state: 'cancelled', cancelReason: 'wrong filter', cancelledBy: 'ops@example.com' });
  });

  test('finish keeps a cancelled state', async () => {
    await createReplay();
    await store.replays.cancelBulkReplay('replay-1', 'wrong filter', 'ops@example.com', secondsAfterStart(101).toISOString());

    expect(await store.replays.finishBulkReplay('replay-1', 'completed', secondsAfterStart(102).toISOString())).toBe(false);
    expect((await store.replays.getBulkReplay('replay-1'))?.state).toBe('cancelled');
  });

  test('replay message copies the original', async () => {
    await addMessage('orders-a', 1);
    store.db.prepare(`UPDATE messages SET forwarded_headers = ?, dedup_key_hash = 'hash' WHERE message_id = 'orders-a'`).run(JSON.stringify({ 'x-partner': 'p1' }));

    const { inserted, message } = await store.claimReplayMessage((await store.getMessage('orders-a'))!, { messageId: 'orders-r', claimToken: 'token-r', now: secondsAfterStart(50) });

    expect(inserted).toBe(true);
    expect(message).toMatchObject({ rawBlobName: 'raw/orders/orders-a', replayOf: 'orders-a', forwardedHeaders: { 'x-partner': 'p1' }, claimState: 'receiving' });
    expect(message.dedupKeyHash).toBeUndefined();
    expect(await store.listReplaysOf('orders-a')).toEqual([{ messageId: 'orders-r', receivedAt: secondsAfterStart(50).toISOString() }]);
  });
});
