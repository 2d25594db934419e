import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { trackingSchemaVersion } from '../../lib/tracking/schema';
import { openTrackingStore, type TrackingStore } from '../../lib/tracking/trackingStore';

const startTime = new Date('2024-05-01T10:00:00.000Z');

function secondsAfterStart(seconds: number): Date {
  return new Date(startTime.getTime() + seconds * 1000);
}

describe('TrackingStore', () => {
  let dataDir: string;
  let store: TrackingStore;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracking-'));
    store = openTrackingStore(dataDir);
  });

  afterEach(() => {
    store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function claim(claimToken: string, now = startTime, takeOverReceivingAfterInMilliseconds?: number) {
    return store.claimMessage({
      messageId: 'orders-1',
      connectorId: 'orders',
      dedupKeyHash: 'hash-1',
      claimToken,
      now,
      takeOverReceivingAfterInMilliseconds,
    });
  }

  const payload = { rawBlobName: 'raw/orders/orders-1', sizeInBytes: 12, sha256: 'ab'.repeat(32), contentType: 'application/json' };

  describe('database', () => {
    test('uses WAL with synchronous NORMAL, synced by the group commit', () => {
      expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    });

    test('creates tracking.db in the data folder', () => {
      expect(fs.existsSync(path.join(dataDir, 'tracking.db'))).toBe(true);
    });

    test('reopening keeps the data', async () => {
      await claim('token-a');
      store.close();
      store = openTrackingStore(dataDir);

      expect((await store.getMessage('orders-1'))?.claimToken).toBe('token-a');
    });

    test('rejects a newer schema version', () => {
      store.db.pragma('user_version = 99');
      store.close();

      expect(() => openTrackingStore(dataDir)).toThrow(`has schema version 99, but this version of the connector uses ${trackingSchemaVersion}`);

      const db = new Database(path.join(dataDir, 'tracking.db'));
      db.pragma(`user_version = ${trackingSchemaVersion}`);
      db.close();
      store = openTrackingStore(dataDir);
    });

    test('migrates a version 1 database', async () => {
      await claim('token-a');
      store.db.exec(
        [
          'DROP TABLE quarantine',
          'DROP TABLE deliveries',
          'DROP TABLE replays',
          'DROP TABLE replay_items',
          ...['messages_by_connector', 'messages_by_outcome', 'messages_by_dedup_key', 'messages_by_entity', 'messages_by_replay_of'].map(
            (index) => `DROP INDEX ${index}`,
          ),
          ...['content_encoding', 'configuration_version', 'forwarded_headers', 'outcome', 'outcome_reason', 'completed_at', 'replay_of'].map(
            (column) => `ALTER TABLE messages DROP COLUMN ${column}`,
          ),
        ].join(';\n'),
      );
      store.db.pragma('user_version = 1');
      store.close();

      store = openTrackingStore(dataDir);

      expect(store.db.pragma('user_version', { simple: true })).toBe(trackingSchemaVersion);
      expect((await store.getMessage('orders-1'))?.claimToken).toBe('token-a');
      expect(store.db.prepare('SELECT COUNT(*) AS count FROM quarantine').get()).toEqual({ count: 0 });
    });

    test('migrates a version 3 database', async () => {
      await claim('token-a');
      store.db.exec('DROP TABLE replay_items; DROP TABLE replays;');
      store.db.pragma('user_version = 3');
      store.close();

      store = openTrackingStore(dataDir);

      expect(store.db.pragma('user_version', { simple: true })).toBe(4);
      expect((await store.getMessage('orders-1'))?.claimToken).toBe('token-a');
      expect(store.db.prepare('SELECT COUNT(*) AS count FROM replays').get()).toEqual({ count: 0 });
      expect(store.db.prepare('SELECT COUNT(*) AS count FROM replay_items').get()).toEqual({ count: 0 });
    });

    test('keeps a message outcome and its deliveries', async () => {
      await claim('token-a');
      await store.upsertDelivery({ messageId: 'orders-1', destinationId: 'erp', outcome: 'deadLettered', reason: 'HTTP 400', attempts: 1, updatedAt: '2024-05-01T10:00:01.000Z' });
      await store.setMessageOutcome('orders-1', 'deadLettered', 'destination erp: HTTP 400', '2024-05-01T10:00:02.000Z');

      expect((await store.getMessage('orders-1'))?.outcome).toBe('deadLettered');
      expect(await store.listDeliveries('orders-1')).toEqual([
        { messageId: 'orders-1', destinationId: 'erp', outcome: 'deadLettered', reason: 'HTTP 400', attempts: 1, updatedAt: '2024-05-01T10:00:01.000Z' },
      ]);
    });
  });

  describe('claimMessage', () => {
    test('first claim wins', async () => {
      const result = await claim('token-a');

      expect(result).toMatchObject({ status: 'claimed', takenOver: false });
      expect(result.message.claimState).toBe('receiving');
      expect(result.message.receivedAt).toBe('2024-05-01T10:00:00.000Z');
    });

    test('second claim sees the existing row', async () => {
      await claim('token-a');

      const result = await claim('token-b', secondsAfterStart(1));

      expect(result.status).toBe('exists');
      expect(result.message.claimToken).toBe('token-a');
    });

    test('accepted message is never taken over', async () => {
      await claim('token-a');
      await store.markAccepted('orders-1', 'token-a', payload);

      const result = await claim('token-b', secondsAfterStart(3600), 1000);

      expect(result.status).toBe('exists');
      expect(result.message.claimState).toBe('accepted');
    });

    test('young receiving claim is not taken over', async () => {
      await claim('token-a');

      expect((await claim('token-b', secondsAfterStart(5), 30_000)).status).toBe('exists');
    });

    test('old receiving claim is taken over', async () => {
      await claim('token-a');

      const result = await claim('token-b', secondsAfterStart(31), 30_000);

      expect(result).toMatchObject({ status: 'claimed', takenOver: true });
      expect(result.message.claimToken).toBe('token-b');
    });

    test('old owner cannot accept after a takeover', async () => {
      await claim('token-a');
      await claim('token-b', secondsAfterStart(31), 30_000);

      expect(await store.markAccepted('orders-1', 'token-a', payload)).toBe(false);
      expect(await store.markAccepted('orders-1', 'token-b', payload)).toBe(true);
    });

    test('a second connection sees the claim', async () => {
      await claim('token-a');
      const other = openTrackingStore(dataDir);
      try {
        expect((await other.claimMessage({ messageId: 'orders-1', connectorId: 'orders', claimToken: 'token-b', now: startTime })).status).toBe('exists');
      } finally {
        other.close();
      }
    });
  });

  describe('markAccepted and releaseClaim', () => {
    test('markAccepted stores the payload reference', async () => {
      await claim('token-a');

      expect(await store.markAccepted('orders-1', 'token-a', payload)).toBe(true);
      expect(await store.getMessage('orders-1')).toMatchObject({ claimState: 'accepted', ...payload });
    });

    test('releaseClaim deletes a receiving claim', async () => {
      await claim('token-a');

      expect(await store.releaseClaim('orders-1', 'token-a')).toBe(true);
      expect(await store.getMessage('orders-1')).toBeUndefined();
      expect((await claim('token-b')).status).toBe('claimed');
    });

    test('releaseClaim needs the owning token', async () => {
      await claim('token-a');

      expect(await store.releaseClaim('orders-1', 'token-b')).toBe(false);
      expect(await store.getMessage('orders-1')).toBeDefined();
    });

    test('releaseClaim keeps an accepted message', async () => {
      await claim('token-a');
      await store.markAccepted('orders-1', 'token-a', payload);

      expect(await store.releaseClaim('orders-1', 'token-a')).toBe(false);
    });
  });

  describe('message entity', () => {
    test('keeps number and string versions apart', async () => {
      await claim('token-a');

      await store.setMessageEntity('orders-1', { type: 'order', key: '123', version: 7 });
      expect((await store.getMessage('orders-1'))?.entity).toEqual({ type: 'order', key: '123', version: 7 });

      await store.setMessageEntity('orders-1', { type: 'order', key: '123', version: '7' });
      expect((await store.getMessage('orders-1'))?.entity).toEqual({ type: 'order', key: '123', version: '7' });
    });
  });

  describe('attempts', () => {
    test('lists attempts in order', async () => {
      await store.recordAttempt({ messageId: 'orders-1', destinationId: 'erp', attemptNumber: 2, startedAt: '2024-05-01T10:00:02.000Z', outcome: 'delivered', statusCode: 200, durationInMilliseconds: 5 });
      await store.recordAttempt({ messageId: 'orders-1', destinationId: 'erp', attemptNumber: 1, startedAt: '2024-05-01T10:00:01.000Z', outcome: 'retryable', statusCode: 503, error: 'HTTP 503', durationInMilliseconds: 7, responseBodyStart: 'busy' });

      const attempts = await store.listAttempts('orders-1');

      expect(attempts.map((attempt) => attempt.attemptNumber)).toEqual([1, 2]);
      expect(attempts[0]).toEqual({
        messageId: 'orders-1',
        destinationId: 'erp',
        attemptNumber: 1,
        startedAt: '2024-05-01T10:00:01.000Z',
        outcome: 'retryable',
        statusCode: 503,
        error: 'HTTP 503',
        durationInMilliseconds: 7,
        responseBodyStart: 'busy',
      });
    });

    test('re-recording an attempt replaces it', async () => {
      const attempt = { messageId: 'orders-1', destinationId: 'erp', attemptNumber: 1, startedAt: startTime.toISOString(), outcome: 'retryable' as const, error: 'timed out after 5000 ms', durationInMilliseconds: 5000 };
      await store.recordAttempt(attempt);
      await store.recordAttempt({ ...attempt, outcome: 'delivered', statusCode: 200, error: undefined, durationInMilliseconds: 3 });

      const attempts = await store.listAttempts('orders-1');

      expect(attempts).toHaveLength(1);
      expect(attempts[0].outcome).toBe('delivered');
    });
  });

  describe('audit', () => {
    test('appends and lists entries', async () => {
      await store.appendAudit({ messageId: 'orders-1', at: startTime.toISOString(), step: 'received', detail: { sizeInBytes: 12 } });
      await store.appendAudit({ messageId: 'orders-1', at: startTime.toISOString(), step: 'delivered', key: 'erp', detail: { statusCode: 200 } });

      expect(await store.listAudit('orders-1')).toEqual([
        { messageId: 'orders-1', at: startTime.toISOString(), step: 'received', key: '', detail: { sizeInBytes: 12 } },
        { messageId: 'orders-1', at: startTime.toISOString(), step: 'delivered', key: 'erp', detail: { statusCode: 200 } },
      ]);
    });

    test('repeated step and key is ignored', async () => {
      expect(await store.appendAudit({ messageId: 'orders-1', at: startTime.toISOString(), step: 'received', detail: {} })).toBe(true);
      expect(await store.appendAudit({ messageId: 'orders-1', at: secondsAfterStart(1).toISOString(), step: 'received', detail: {} })).toBe(false);

      expect(await store.listAudit('orders-1')).toHaveLength(1);
    });

    test('same step with another key is added', async () => {
      await store.appendAudit({ messageId: 'orders-1', at: startTime.toISOString(), step: 'delivered', key: 'erp', detail: {} });
      await store.appendAudit({ messageId: 'orders-1', at: startTime.toISOString(), step: 'delivered', key: 'crm', detail: {} });

      expect(await store.listAudit('orders-1')).toHaveLength(2);
    });
  });

  describe('entity state', () => {
    const mirror = { connectorId: 'orders', entityType: 'order', entityKey: '123', at: startTime };

    function stateRow(): Record<string, unknown> | undefined {
      return store.db.prepare(`SELECT * FROM entity_state WHERE entity_key = '123'`).get() as Record<string, unknown> | undefined;
    }

    test('mirror writes state and a change', async () => {
      const result = await store.mirrorEntityState({ ...mirror, version: 1, messageId: 'orders-1' });

      expect(result).toEqual({ applied: true, changeVersion: 1 });
      expect(stateRow()).toMatchObject({ version: 1, last_message_id: 'orders-1', change_version: 1 });
    });

    test('newer version advances the change version', async () => {
      await store.mirrorEntityState({ ...mirror, version: 1, messageId: 'orders-1' });

      const result = await store.mirrorEntityState({ ...mirror, version: 2, messageId: 'orders-2' });

      expect(result).toEqual({ applied: true, changeVersion: 2 });
      expect(stateRow()).toMatchObject({ version: 2, last_message_id: 'orders-2' });
    });

    test('same message again returns its change version', async () => {
      await store.mirrorEntityState({ ...mirror, version: 1, messageId: 'orders-1' });

      const result = await store.mirrorEntityState({ ...mirror, version: 1, messageId: 'orders-1' });

      expect(result).toEqual({ applied: true, changeVersion: 1 });
      expect((await store.listChanges(0, 10)).changes).toHaveLength(1);
    });

    test('older version changes nothing', async () => {
      await store.mirrorEntityState({ ...mirror, version: 5, messageId: 'orders-5' });

      const result = await store.mirrorEntityState({ ...mirror, version: 4, messageId: 'orders-4' });

      expect(result).toEqual({ applied: false, changeVersion: 1 });
      expect(stateRow()).toMatchObject({ version: 5 });
      expect((await store.listChanges(0, 10)).changes).toHaveLength(1);
    });

    test('listChanges pages after a change version', async () => {
      for (let version = 1; version <= 5; version++) {
        await store.mirrorEntityState({ ...mirror, version, messageId: `orders-${version}` });
      }

      const page = await store.listChanges(2, 2);

      expect(page.changes.map((change) => change.changeVersion)).toEqual([3, 4]);
      expect(page.lastChangeVersion).toBe(4);
      expect(page.changes[0]).toEqual({
        changeVersion: 3,
        connectorId: 'orders',
        entityType: 'order',
        entityKey: '123',
        version: 3,
        messageId: 'orders-3',
        changedAt: startTime.toISOString(),
        operation: 'upsert',
      });
    });

    test('empty page keeps since', async () => {
      expect(await store.listChanges(9, 10)).toEqual({ changes: [], lastChangeVersion: 9 });
    });
  });

  describe('deleteMessagesOlderThan', () => {
    test('deletes old messages with attempts and audit', async () => {
      await claim('token-a');
      await store.recordAttempt({ messageId: 'orders-1', destinationId: 'erp', attemptNumber: 1, startedAt: startTime.toISOString(), outcome: 'delivered', statusCode: 200, durationInMilliseconds: 1 });
      await store.appendAudit({ messageId: 'orders-1', at: startTime.toISOString(), step: 'received', detail: {} });
      await store.claimMessage({ messageId: 'orders-2', connectorId: 'orders', claimToken: 'token-c', now: secondsAfterStart(100) });

      const deleted = await store.deleteMessagesOlderThan(secondsAfterStart(50));

      expect(deleted).toBe(1);
      expect(await store.getMessage('orders-1')).toBeUndefined();
      expect(await store.listAttempts('orders-1')).toEqual([]);
      expect(await store.listAudit('orders-1')).toEqual([]);
      expect(await store.getMessage('orders-2')).toBeDefined();
    });

    test('a deleted dedup key can be claimed again', async () => {
      await claim('token-a');
      await store.deleteMessagesOlderThan(secondsAfterStart(1));

      expect((await claim('token-b', secondsAfterStart(2))).status).toBe('claimed');
    });

    test('keeps entity state', async () => {
      await store.mirrorEntityState({ connectorId: 'orders', entityType: 'order', entityKey: '1', version: 1, messageId: 'orders-1', at: startTime });

      await store.deleteMessagesOlderThan(secondsAfterStart(60));

      expect((await store.listChanges(0, 10)).changes).toHaveLength(1);
    });
  });
});

