import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { QuarantineStorePort } from '../../lib/quarantine/QuarantineStorePort';
import type { TrackingStorePort } from '../../lib/tracking/TrackingStorePort';
import type { AcceptedPayload, ClaimRequest } from '../../lib/tracking/types';

/** A tracking store under test, with the quarantine store over the same database. */
export interface TrackingStoreFixture {
  tracking: TrackingStorePort;
  quarantine: QuarantineStorePort;
  close(): Promise<void>;
}

const startTime = new Date('2026-12-04T10:00:00.000Z');

function secondsAfterStart(seconds: number): Date {
  return new Date(startTime.getTime() + seconds * 1000);
}

const payload: AcceptedPayload = { rawBlobName: 'raw/orders/m-1', sizeInBytes: 12, sha256: 'ab'.repeat(32), contentType: 'application/json' };

/**
 * Describes the behaviour every TrackingStorePort adapter shares. Each test uses its own
 * connector id and message ids, so the suite also runs against a database that keeps rows
 * between tests, such as a shared Azure SQL database.
 */
export function describeTrackingStoreContract(openFixture: () => Promise<TrackingStoreFixture>): void {
  let fixture: TrackingStoreFixture;
  let store: TrackingStorePort;
  let connectorId: string;

  beforeEach(async () => {
    fixture = await openFixture();
    store = fixture.tracking;
    connectorId = `contract-${randomUUID()}`;
  });

  afterEach(async () => {
    await fixture.close();
  });

  function messageIdOf(name: string): string {
    return `${connectorId}-${name}`;
  }

  function claimRequest(name: string, claimToken: string, now = startTime, takeOverReceivingAfterInMilliseconds?: number): ClaimRequest {
    const request: ClaimRequest = { messageId: messageIdOf(name), connectorId, dedupKeyHash: `hash-${name}`, claimToken, now };
    if (takeOverReceivingAfterInMilliseconds !== undefined) {
      request.takeOverReceivingAfterInMilliseconds = takeOverReceivingAfterInMilliseconds;
    }
    return request;
  }

  /** Claims and accepts message `name` received at `receivedAt`. */
  async function acceptMessage(name: string, receivedAt = startTime): Promise<string> {
    await store.claimMessage(claimRequest(name, `token-${name}`, receivedAt));
    await store.markAccepted(messageIdOf(name), `token-${name}`, payload);
    return messageIdOf(name);
  }

  describe('claims', () => {
    it('first claim is claimed', async () => {
      const result = await store.claimMessage(claimRequest('m', 'token-a'));

      expect(result.status).toBe('claimed');
      expect(result.message.claimState).toBe('receiving');
      expect(result.message.receivedAt).toBe(startTime.toISOString());
    });

    it('second claim gets exists', async () => {
      await store.claimMessage(claimRequest('m', 'token-a'));

      const result = await store.claimMessage(claimRequest('m', 'token-b'));

      expect(result.status).toBe('exists');
      expect(result.message.claimToken).toBe('token-a');
    });

    it('old receiving claim is taken over', async () => {
      await store.claimMessage(claimRequest('m', 'token-a'));

      const result = await store.claimMessage(claimRequest('m', 'token-b', secondsAfterStart(60), 30_000));

      expect(result).toMatchObject({ status: 'claimed', takenOver: true });
      expect(result.message.claimToken).toBe('token-b');
      expect(result.message.receivedAt).toBe(secondsAfterStart(60).toISOString());
    });

    it('young receiving claim is kept', async () => {
      await store.claimMessage(claimRequest('m', 'token-a'));

      const result = await store.claimMessage(claimRequest('m', 'token-b', secondsAfterStart(10), 30_000));

      expect(result.status).toBe('exists');
    });

    it('accepted claim is never taken over', async () => {
      await acceptMessage('m');

      const result = await store.claimMessage(claimRequest('m', 'token-b', secondsAfterStart(3600), 30_000));

      expect(result.status).toBe('exists');
    });

    it('markAccepted stores the payload', async () => {
      await store.claimMessage(claimRequest('m', 'token-a'));

      const accepted = await store.markAccepted(messageIdOf('m'), 'token-a', { ...payload, contentEncoding: 'gzip', forwardedHeaders: { 'x-trace': 't-1' } });
      const message = await store.getMessage(messageIdOf('m'));

      expect(accepted).toBe(true);
      expect(message).toMatchObject({ claimState: 'accepted', rawBlobName: payload.rawBlobName, sizeInBytes: 12, sha256: payload.sha256, contentEncoding: 'gzip' });
      expect(message?.forwardedHeaders).toEqual({ 'x-trace': 't-1' });
    });

    it('markAccepted with a stale token fails', async () => {
      await store.claimMessage(claimRequest('m', 'token-a'));
      await store.claimMessage(claimRequest('m', 'token-b', secondsAfterStart(60), 30_000));

      expect(await store.markAccepted(messageIdOf('m'), 'token-a', payload)).toBe(false);
    });

    it('releaseClaim deletes own receiving claim', async () => {
      await store.claimMessage(claimRequest('m', 'token-a'));

      expect(await store.releaseClaim(messageIdOf('m'), 'token-a')).toBe(true);
      expect(await store.getMessage(messageIdOf('m'))).toBeUndefined();
    });

    it('releaseClaim keeps another token claim', async () => {
      await store.claimMessage(claimRequest('m', 'token-a'));

      expect(await store.releaseClaim(messageIdOf('m'), 'token-b')).toBe(false);
    });

    it('releaseClaim keeps an accepted message', async () => {
      await acceptMessage('m');

      expect(await store.releaseClaim(messageIdOf('m'), 'token-m')).toBe(false);
    });

    it('unknown message is undefined', async () => {
      expect(await store.getMessage(messageIdOf('missing'))).toBeUndefined();
    });
  });

  describe('message fields', () => {
    it('entity, configuration version and outcome are stored', async () => {
      const messageId = await acceptMessage('m');

      await store.setMessageEntity(messageId, { type: 'order', key: '1001', version: '2026-12-04T09:00:00Z' });
      await store.setConfigurationVersion(messageId, 'config-sha');
      await store.setMessageOutcome(messageId, 'deadLettered', 'billing: 400', secondsAfterStart(5).toISOString());
      const message = await store.getMessage(messageId);

      expect(message?.entity).toEqual({ type: 'order', key: '1001', version: '2026-12-04T09:00:00Z' });
      expect(message?.configurationVersion).toBe('config-sha');
      expect(message).toMatchObject({ outcome: 'deadLettered', outcomeReason: 'billing: 400', completedAt: secondsAfterStart(5).toISOString() });
    });
  });

  describe('attempts and deliveries', () => {
    it('re-recorded attempt replaces the row', async () => {
      const messageId = await acceptMessage('m');
      const attempt = { messageId, destinationId: 'billing', attemptNumber: 1, startedAt: startTime.toISOString(), outcome: 'retryable' as const, statusCode: 503, durationInMilliseconds: 40 };

      await store.recordAttempt(attempt);
      await store.recordAttempt({ ...attempt, statusCode: 502, error: 'bad gateway' });
      const attempts = await store.listAttempts(messageId);

      expect(attempts).toHaveLength(1);
      expect(attempts[0]).toMatchObject({ statusCode: 502, error: 'bad gateway', durationInMilliseconds: 40 });
    });

    it('attempts are ordered by destination and number', async () => {
      const messageId = await acceptMessage('m');
      const base = { messageId, startedAt: startTime.toISOString(), outcome: 'retryable' as const, durationInMilliseconds: 1 };

      await store.recordAttempt({ ...base, destinationId: 'crm', attemptNumber: 2 });
      await store.recordAttempt({ ...base, destinationId: 'billing', attemptNumber: 1 });
      await store.recordAttempt({ ...base, destinationId: 'crm', attemptNumber: 1 });
      const order = (await store.listAttempts(messageId)).map((attempt) => `${attempt.destinationId}#${attempt.attemptNumber}`);

      expect(order).toEqual(['billing#1', 'crm#1', 'crm#2']);
    });

    it('delivery upsert keeps the payload name', async () => {
      const messageId = await acceptMessage('m');

      await store.upsertDelivery({ messageId, destinationId: 'billing', payloadBlobName: 'transformed/x', outcome: 'pending', attempts: 0, updatedAt: startTime.toISOString() });
      await store.upsertDelivery({ messageId, destinationId: 'billing', outcome: 'delivered', attempts: 2, statusCode: 200, updatedAt: secondsAfterStart(3).toISOString() });
      const deliveries = await store.listDeliveries(messageId);

      expect(deliveries).toEqual([
        { messageId, destinationId: 'billing', payloadBlobName: 'transformed/x', outcome: 'delivered', attempts: 2, statusCode: 200, updatedAt: secondsAfterStart(3).toISOString() },
      ]);
    });

    it('deliveries are ordered by destination', async () => {
      const messageId = await acceptMessage('m');

      await store.upsertDelivery({ messageId, destinationId: 'crm', outcome: 'filtered', attempts: 0, updatedAt: startTime.toISOString() });
      await store.upsertDelivery({ messageId, destinationId: 'billing', outcome: 'pending', reason: 'circuit open', attempts: 1, updatedAt: startTime.toISOString() });

      expect((await store.listDeliveries(messageId)).map((delivery) => delivery.destinationId)).toEqual(['billing', 'crm']);
    });
  });

  describe('audit', () => {
    it('repeated step and key is added once', async () => {
      const messageId = await acceptMessage('m');
      const entry = { messageId, at: startTime.toISOString(), step: 'delivered', key: 'billing', detail: { statusCode: 200 } };

      expect(await store.appendAudit(entry)).toBe(true);
      expect(await store.appendAudit({ ...entry, detail: { statusCode: 201 } })).toBe(false);
      expect(await store.listAudit(messageId)).toEqual([entry]);
    });

    it('entries keep the order written', async () => {
      const messageId = await acceptMessage('m');

      for (const step of ['received', 'accepted', 'transformed', 'delivered']) {
        await store.appendAudit({ messageId, at: startTime.toISOString(), step, detail: {} });
      }
      const steps = (await store.listAudit(messageId)).map((entry) => entry.step);

      expect(steps).toEqual(['received', 'accepted', 'transformed', 'delivered']);
    });

    it('missing key is stored as empty', async () => {
      const messageId = await acceptMessage('m');

      await store.appendAudit({ messageId, at: startTime.toISOString(), step: 'received', detail: {} });

      expect((await store.listAudit(messageId))[0]?.key).toBe('');
    });
  });

  describe('entity mirror and changes', () => {
    function mirror(entityKey: string, version: string | number | undefined, name: string, at = startTime) {
      const request = { connectorId, entityType: 'order', entityKey, messageId: messageIdOf(name), at };
      return store.mirrorEntityState(version === undefined ? request : { ...request, version });
    }

    it('newer version is applied', async () => {
      const first = await mirror('1001', 1, 'a');
      const second = await mirror('1001', 2, 'b');

      expect(first.applied).toBe(true);
      expect(second.applied).toBe(true);
      expect(second.changeVersion).toBeGreaterThan(first.changeVersion);
    });

    it('older version is rejected', async () => {
      await mirror('1001', 5, 'a');
      const current = await mirror('1001', 6, 'b');

      const older = await mirror('1001', 4, 'c');

      expect(older).toEqual({ applied: false, changeVersion: current.changeVersion });
    });

    it('repeated message returns its change version', async () => {
      const first = await mirror('1001', 1, 'a');
      await mirror('1001', 2, 'b');

      expect(await mirror('1001', 1, 'a')).toEqual({ applied: true, changeVersion: first.changeVersion });
    });

    it('changes page after since', async () => {
      const before = await store.listChanges(0, 1_000_000);
      const since = before.lastChangeVersion;
      await mirror('1001', 1, 'a', secondsAfterStart(1));
      await mirror('1002', '2026-12-04', 'b', secondsAfterStart(2));
      await mirror('1003', undefined, 'c', secondsAfterStart(3));

      const firstPage = await store.listChanges(since, 2);
      const secondPage = await store.listChanges(firstPage.lastChangeVersion, 2);
      const emptyPage = await store.listChanges(secondPage.lastChangeVersion, 2);

      expect(firstPage.changes.map((change) => change.entityKey)).toEqual(['1001', '1002']);
      expect(firstPage.changes[0]).toMatchObject({ connectorId, entityType: 'order', version: 1, messageId: messageIdOf('a'), changedAt: secondsAfterStart(1).toISOString(), operation: 'upsert' });
      expect(firstPage.changes[1]?.version).toBe('2026-12-04');
      expect(secondPage.changes.map((change) => change.entityKey)).toEqual(['1003']);
      expect(secondPage.changes[0]?.version).toBeUndefined();
      expect(emptyPage).toEqual({ changes: [], lastChangeVersion: secondPage.lastChangeVersion });
    });

    it('changes end with the newest version of an entity', async () => {
      const since = (await store.listChanges(0, 1_000_000)).lastChangeVersion;
      await mirror('1001', 1, 'a', secondsAfterStart(1));
      const newest = await mirror('1001', 2, 'b', secondsAfterStart(2));

      const page = await store.listChanges(since, 10);

      expect(page.changes.at(-1)).toMatchObject({ entityKey: '1001', version: 2, messageId: messageIdOf('b'), changeVersion: newest.changeVersion });
      expect(page.lastChangeVersion).toBe(newest.changeVersion);
    });
  });

  describe('message list', () => {
    it('lists accepted messages newest first', async () => {
      await acceptMessage('a', secondsAfterStart(1));
      await acceptMessage('b', secondsAfterStart(2));
      await store.claimMessage(claimRequest('receiving', 'token-r', secondsAfterStart(3)));

      const page = await store.listMessages({ connectorId, limit: 10 });

      expect(page.messages.map((message) => message.messageId)).toEqual([messageIdOf('b'), messageIdOf('a')]);
      expect(page.continuationToken).toBeUndefined();
    });

    it('continuation token reads the next page', async () => {
      for (const [index, name] of ['a', 'b', 'c'].entries()) {
        await acceptMessage(name, secondsAfterStart(index));
      }

      const first = await store.listMessages({ connectorId, limit: 2 });
      const { decodeContinuationToken } = await import('../../lib/tracking/messageList');
      const second = await store.listMessages({ connectorId, limit: 2, after: decodeContinuationToken(first.continuationToken ?? '') });

      expect(first.messages.map((message) => message.messageId)).toEqual([messageIdOf('c'), messageIdOf('b')]);
      expect(second.messages.map((message) => message.messageId)).toEqual([messageIdOf('a')]);
      expect(second.continuationToken).toBeUndefined();
    });

    it('filters by outcome, entity key and time', async () => {
      const delivered = await acceptMessage('delivered', secondsAfterStart(1));
      const pending = await acceptMessage('pending', secondsAfterStart(2));
      await store.setMessageOutcome(delivered, 'delivered', undefined, secondsAfterStart(3).toISOString());
      await store.setMessageEntity(pending, { type: 'order', key: '1001' });

      const byOutcome = await store.listMessages({ connectorId, outcome: 'delivered', limit: 10 });
      const byPending = await store.listMessages({ connectorId, outcome: 'pending', limit: 10 });
      const byEntity = await store.listMessages({ connectorId, entityKey: '1001', limit: 10 });
      const byTime = await store.listMessages({ connectorId, receivedFrom: secondsAfterStart(2).toISOString(), limit: 10 });

      expect(byOutcome.messages.map((message) => message.messageId)).toEqual([delivered]);
      expect(byPending.messages.map((message) => message.messageId)).toEqual([pending]);
      expect(byEntity.messages.map((message) => message.messageId)).toEqual([pending]);
      expect(byTime.messages.map((message) => message.messageId)).toEqual([pending]);
    });

    it('filters by destination', async () => {
      const billing = await acceptMessage('billing');
      await acceptMessage('other');
      await store.upsertDelivery({ messageId: billing, destinationId: 'billing', outcome: 'delivered', attempts: 1, updatedAt: startTime.toISOString() });

      const page = await store.listMessages({ connectorId, destinationId: 'billing', limit: 10 });

      expect(page.messages.map((message) => message.messageId)).toEqual([billing]);
    });
  });

  describe('replays of messages', () => {
    it('replay claim copies the original', async () => {
      const originalId = await acceptMessage('original');
      const original = await store.getMessage(originalId);

      const replay = await store.claimReplayMessage(original!, { messageId: messageIdOf('replay'), claimToken: 'token-replay', now: secondsAfterStart(60) });
      const again = await store.claimReplayMessage(original!, { messageId: messageIdOf('replay'), claimToken: 'token-other', now: secondsAfterStart(61) });

      expect(replay.inserted).toBe(true);
      expect(replay.message).toMatchObject({ replayOf: originalId, rawBlobName: payload.rawBlobName, claimState: 'receiving', claimToken: 'token-replay' });
      expect(replay.message.dedupKeyHash).toBeUndefined();
      expect(again.inserted).toBe(false);
      expect(again.message.claimToken).toBe('token-replay');
      expect(await store.listReplaysOf(originalId)).toEqual([{ messageId: messageIdOf('replay'), receivedAt: secondsAfterStart(60).toISOString() }]);
    });
  });

  describe('retention', () => {
    it('old messages are deleted with their rows', async () => {
      const old = await acceptMessage('old', startTime);
      const recent = await acceptMessage('recent', secondsAfterStart(3600));
      await store.appendAudit({ messageId: old, at: startTime.toISOString(), step: 'received', detail: {} });
      await store.upsertDelivery({ messageId: old, destinationId: 'billing', outcome: 'delivered', attempts: 1, updatedAt: startTime.toISOString() });

      const deleted = await store.deleteMessagesOlderThan(secondsAfterStart(60));

      expect(deleted).toBeGreaterThanOrEqual(1);
      expect(await store.getMessage(old)).toBeUndefined();
      expect(await store.listAudit(old)).toEqual([]);
      expect(await store.listDeliveries(old)).toEqual([]);
      expect(await store.getMessage(recent)).toBeDefined();
    });
  });

  describe('bulk replays', () => {
    it('created replay counts matching messages', async () => {
      await acceptMessage('a', secondsAfterStart(1));
      await acceptMessage('b', secondsAfterStart(2));
      const replayId = `replay-${randomUUID()}`;

      const preview = await store.replays.previewMatching({ connectorId }, 10);
      const created = await store.replays.createBulkReplay({
        replayId, filter: { connectorId }, reason: 'contract', operator: 'tester', retransform: false, requestsPerSecond: 5, createdAt: startTime.toISOString(),
      });

      expect(preview).toEqual({ total: 2, messageIds: [messageIdOf('a'), messageIdOf('b')] });
      expect(created).toMatchObject({ replayId, state: 'running', total: 2, replayed: 0, failed: 0 });
    });

    it('recorded item counts once', async () => {
      const original = await acceptMessage('a');
      const replayId = `replay-${randomUUID()}`;
      await store.replays.createBulkReplay({ replayId, filter: { connectorId }, reason: 'contract', operator: 'tester', retransform: false, requestsPerSecond: 5, createdAt: startTime.toISOString() });
      const item = { originalMessageId: original, newMessageId: messageIdOf('new'), at: startTime.toISOString() };

      expect(await store.replays.recordItem(replayId, item)).toBe(true);
      expect(await store.replays.recordItem(replayId, item)).toBe(false);
      expect((await store.replays.getBulkReplay(replayId))?.replayed).toBe(1);
      expect(await store.replays.listItems(replayId, true, 10)).toEqual([item]);
    });

    it('finished replay cannot be cancelled', async () => {
      const replayId = `replay-${randomUUID()}`;
      await store.replays.createBulkReplay({ replayId, filter: { connectorId }, reason: 'contract', operator: 'tester', retransform: false, requestsPerSecond: 5, createdAt: startTime.toISOString() });

      expect(await store.replays.finishBulkReplay(replayId, 'completed', secondsAfterStart(1).toISOString())).toBe(true);
      expect(await store.replays.cancelBulkReplay(replayId, 'late', 'tester', secondsAfterStart(2).toISOString())).toBe(false);
    });
  });

  describe('quarantine', () => {
    function newQuarantined(quarantineId: string, receivedAt: Date) {
      return {
        quarantineId, connectorId, receivedAt: receivedAt.toISOString(), reason: 'schema', errors: [{ pointer: '/orderId', message: 'must be string' }],
        payloadBlobName: `quarantine/${connectorId}/${quarantineId}`, sizeInBytes: 3, sha256: 'cd'.repeat(32), contentType: 'application/json',
      };
    }

    it('insert is idempotent and release happens once', async () => {
      const quarantineId = `q-${randomUUID()}`;

      expect(await fixture.quarantine.insert(newQuarantined(quarantineId, startTime))).toBe(true);
      expect(await fixture.quarantine.insert(newQuarantined(quarantineId, startTime))).toBe(false);
      expect(await fixture.quarantine.markReleased(quarantineId, messageIdOf('released'), secondsAfterStart(5))).toBe(true);
      expect(await fixture.quarantine.markReleased(quarantineId, messageIdOf('again'), secondsAfterStart(6))).toBe(false);
      expect(await fixture.quarantine.get(quarantineId)).toMatchObject({ state: 'released', messageId: messageIdOf('released'), releasedAt: secondsAfterStart(5).toISOString() });
    });

    it('list is newest first per connector', async () => {
      await fixture.quarantine.insert(newQuarantined(`q-old-${randomUUID()}`, startTime));
      const newest = `q-new-${randomUUID()}`;
      await fixture.quarantine.insert(newQuarantined(newest, secondsAfterStart(10)));

      const listed = await fixture.quarantine.list({ connectorId, top: 1 });

      expect(listed.map((entry) => entry.quarantineId)).toEqual([newest]);
    });
  });
}
