import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { finishBulkReplay } from '../../activities/finishBulkReplay';
import { startReplays } from '../../activities/startReplays';
import { takeReplayPage } from '../../activities/takeReplayPage';
import type { OrchestrationStarter } from '../../lib/ingest/acceptMessage';
import { createTestDependencies, testNow, type TestDependencies } from './support/testDependencies';

const replayId = 'replay-0123456789abcdef0123456789abcdef';
const messageIds = ['orders-00000000000000000000000000000001', 'orders-00000000000000000000000000000002', 'orders-00000000000000000000000000000003'];

/** A starter that keeps the instances it started, as the durable engine does. */
function createRememberingStarter(): OrchestrationStarter & { startedIds: string[] } {
  const startedIds: string[] = [];
  return {
    startedIds,
    async startNew(_name, options) {
      startedIds.push(options.instanceId);
      return options.instanceId;
    },
    async getStatus(instanceId) {
      if (startedIds.includes(instanceId)) {
        return { runtimeStatus: 'Running' };
      }
      throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response for ${instanceId}.`);
    },
  };
}

describe('bulk replay activities', () => {
  let dependencies: TestDependencies;

  beforeEach(async () => {
    dependencies = createTestDependencies();
    const store = dependencies.trackingStore;
    for (const [index, messageId] of messageIds.entries()) {
      const rawBlobName = `raw/orders/${messageId}`;
      const digest = await dependencies.payloadStore.put(rawBlobName, Buffer.from(`{"orderId":"${index}"}`), { contentType: 'application/json' });
      await store.claimMessage({ messageId, connectorId: 'orders', claimToken: 't', now: new Date(testNow.getTime() - 60_000 + index) });
      await store.markAccepted(messageId, 't', { rawBlobName, sizeInBytes: digest.sizeInBytes, sha256: digest.sha256, contentType: 'application/json' });
      await store.setMessageOutcome(messageId, 'delivered', undefined, testNow.toISOString());
    }
    await store.replays.createBulkReplay({ replayId, filter: { connectorId: 'orders' }, reason: 'erp restored', operator: 'ops@example.com', retransform: false, requestsPerSecond: 2, createdAt: testNow.toISOString() });
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('page lists the oldest messages', async () => {
    const page = await takeReplayPage({ replayId, limit: 2 }, dependencies);

    expect(page.state).toBe('running');
    expect(page.positions.map((position) => position.messageId)).toEqual(messageIds.slice(0, 2));
  });

  test('cancelled replay has an empty page', async () => {
    await dependencies.trackingStore.replays.cancelBulkReplay(replayId, 'stop', 'ops@example.com', testNow.toISOString());

    expect(await takeReplayPage({ replayId, limit: 2 }, dependencies)).toEqual({ state: 'cancelled', positions: [] });
  });

  test('page start replays and moves on', async () => {
    const starter = createRememberingStarter();
    const page = await takeReplayPage({ replayId, limit: 2 }, dependencies);

    const output = await startReplays({ replayId, positions: page.positions }, starter, dependencies);
    const next = await takeReplayPage({ replayId, limit: 2 }, dependencies);

    expect(output).toEqual({ replayed: 2, failed: 0 });
    expect(starter.startedIds).toHaveLength(2);
    expect(next.positions.map((position) => position.messageId)).toEqual([messageIds[2]]);
  });

  test('re-run of a page starts nothing twice', async () => {
    const starter = createRememberingStarter();
    const page = await takeReplayPage({ replayId, limit: 3 }, dependencies);
    await startReplays({ replayId, positions: page.positions }, starter, dependencies);
    // As if the activity had crashed after starting the replays and before recording them.
    dependencies.trackingStore.db.prepare('DELETE FROM replay_items').run();
    dependencies.trackingStore.db.prepare('UPDATE replays SET replayed = 0').run();

    await startReplays({ replayId, positions: page.positions }, starter, dependencies);

    expect(starter.startedIds).toHaveLength(3);
    expect((await dependencies.trackingStore.replays.getBulkReplay(replayId))?.replayed).toBe(3);
    expect(await dependencies.trackingStore.listReplaysOf(messageIds[0])).toHaveLength(1);
  });

  test('message without payload counts as failed', async () => {
    await dependencies.payloadStore.delete(`raw/orders/${messageIds[0]}`);
    const page = await takeReplayPage({ replayId, limit: 1 }, dependencies);

    const output = await startReplays({ replayId, positions: page.positions }, createRememberingStarter(), dependencies);

    expect(output).toEqual({ replayed: 0, failed: 1 });
    expect((await dependencies.trackingStore.replays.listItems(replayId, false, 10))[0].error).toContain('is no longer in the payload store');
  });

  test('finish audits the completion', async () => {
    await finishBulkReplay({ replayId, state: 'completed' }, dependencies);

    expect((await dependencies.trackingStore.replays.getBulkReplay(replayId))?.state).toBe('completed');
    expect((await dependencies.trackingStore.listAudit(replayId)).map((entry) => entry.step)).toEqual(['bulkReplayCompleted']);
  });

  test('finish retry adds the missing audit', async () => {
    // A first run that finished the replay and stopped before its audit entry.
    await dependencies.trackingStore.replays.finishBulkReplay(replayId, 'completed', testNow.toISOString());

    await finishBulkReplay({ replayId, state: 'completed' }, dependencies);
    await finishBulkReplay({ replayId, state: 'completed' }, dependencies);

    expect((await dependencies.trackingStore.replays.getBulkReplay(replayId))?.state).toBe('completed');
    expect((await dependencies.trackingStore.listAudit(replayId)).map((entry) => entry.step)).toEqual(['bulkReplayCompleted']);
  });

  test('finish keeps a cancel', async () => {
    await dependencies.trackingStore.replays.cancelBulkReplay(replayId, 'stop', 'ops@example.com', testNow.toISOString());

    await finishBulkReplay({ replayId, state: 'completed' }, dependencies);

    expect((await dependencies.trackingStore.replays.getBulkReplay(replayId))?.state).toBe('cancelled');
    expect(await dependencies.trackingStore.listAudit(replayId)).toEqual([]);
  });
});
