import type { HttpResponseInit } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { readMessageStatus, type OrchestrationStatusReader } from '../../triggers/messageStatus';
import { createTestDependencies, testNow, type TestDependencies } from './support/testDependencies';

const originalId = 'orders-0123456789abcdef0123456789abcdef';
const replayId = 'orders-fedcba9876543210fedcba9876543210';

function bodyOf(response: HttpResponseInit): any {
  return JSON.parse(response.body as string);
}

/** A reader for an instance that was purged: durable-functions reports it as HTTP 404. */
const purgedInstanceReader: OrchestrationStatusReader = {
  async getStatus(instanceId) {
    throw new Error(`DurableClient error: Durable Functions extension replied with HTTP 404 response for ${instanceId}.`);
  },
};

describe('message status story', () => {
  let dependencies: TestDependencies;

  beforeEach(async () => {
    dependencies = createTestDependencies();
    const store = dependencies.trackingStore;
    await store.claimMessage({ messageId: originalId, connectorId: 'orders', claimToken: 'token', now: testNow });
    await store.markAccepted(originalId, 'token', { rawBlobName: `raw/orders/${originalId}`, sizeInBytes: 2, sha256: 'ab'.repeat(32), contentType: 'application/json' });
    await store.setConfigurationVersion(originalId, 'cd'.repeat(32));
    await store.upsertDelivery({ messageId: originalId, destinationId: 'erp', outcome: 'deadLettered', reason: 'HTTP 400', attempts: 1, statusCode: 400, updatedAt: testNow.toISOString() });
    await store.setMessageOutcome(originalId, 'deadLettered', 'destination erp: HTTP 400', testNow.toISOString());
    await store.claimReplayMessage((await store.getMessage(originalId))!, { messageId: replayId, claimToken: 'token-r', now: new Date(testNow.getTime() + 1000) });
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('purged instance still has its story', async () => {
    const response = await readMessageStatus(originalId, purgedInstanceReader, dependencies);
    const body = bodyOf(response);

    expect(response.status).toBe(200);
    expect(body.runtimeStatus).toBeNull();
    expect(body).toMatchObject({ outcome: 'deadLettered', outcomeReason: 'destination erp: HTTP 400', configurationVersion: 'cd'.repeat(32), completedAt: testNow.toISOString() });
  });

  test('lists each destination with its stored delivery', async () => {
    const body = bodyOf(await readMessageStatus(originalId, purgedInstanceReader, dependencies));

    expect(body.destinations).toEqual([
      { destinationId: 'erp', outcome: 'deadLettered', reason: 'HTTP 400', statusCode: 400, updatedAt: testNow.toISOString(), attempts: [] },
    ]);
  });

  test('original lists its replays', async () => {
    const body = bodyOf(await readMessageStatus(originalId, purgedInstanceReader, dependencies));

    expect(body.replays).toEqual([{ messageId: replayId, receivedAt: new Date(testNow.getTime() + 1000).toISOString() }]);
    expect(body.replayOf).toBeNull();
  });

  test('replay shows its original', async () => {
    const body = bodyOf(await readMessageStatus(replayId, purgedInstanceReader, dependencies));

    expect(body.replayOf).toBe(originalId);
  });

  test('stored outcome wins over the runtime status', async () => {
    const reader: OrchestrationStatusReader = { getStatus: async () => ({ runtimeStatus: 'Completed', output: { outcome: 'delivered' } }) };

    const body = bodyOf(await readMessageStatus(originalId, reader, dependencies));

    expect(body.outcome).toBe('deadLettered');
  });
});
