import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ChangesExpiredError } from '../../lib/tracking/types';
import { listChanges } from '../../triggers/changes';
import { readMessageStatus, type OrchestrationStatusReader } from '../../triggers/messageStatus';
import { createTestDependencies, testNow, type TestDependencies } from './support/testDependencies';

const messageId = 'orders-0123456789abcdef0123456789abcdef';

function bodyOf(response: HttpResponseInit): any {
  return JSON.parse(response.body as string);
}

function readerReturning(status: { runtimeStatus: string; output?: unknown; customStatus?: unknown } | Error): OrchestrationStatusReader {
  return {
    async getStatus() {
      if (status instanceof Error) {
        throw status;
      }
      return status;
    },
  };
}

describe('readMessageStatus', () => {
  let dependencies: TestDependencies;

  beforeEach(async () => {
    dependencies = createTestDependencies();
    const store = dependencies.trackingStore;
    await store.claimMessage({ messageId, connectorId: 'orders', claimToken: 'token', now: testNow });
    await store.markAccepted(messageId, 'token', { rawBlobName: `raw/orders/${messageId}`, sizeInBytes: 42, sha256: 'ab'.repeat(32), contentType: 'application/json' });
    await store.setMessageEntity(messageId, { type: 'order', key: '123', version: 3 });
    await store.recordAttempt({ messageId, destinationId: 'erp', attemptNumber: 1, startedAt: testNow.toISOString(), outcome: 'retryable', statusCode: 503, error: 'HTTP 503 Service Unavailable', durationInMilliseconds: 12 });
    await store.recordAttempt({ messageId, destinationId: 'erp', attemptNumber: 2, startedAt: testNow.toISOString(), outcome: 'delivered', statusCode: 200, durationInMilliseconds: 8 });
    await store.appendAudit({ messageId, at: testNow.toISOString(), step: 'received', detail: { sizeInBytes: 42 } });
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('returns the lineage of a delivered message', async () => {
    const reader = readerReturning({ runtimeStatus: 'Completed', output: { outcome: 'delivered' }, customStatus: { stage: 'delivered' } });

    const response = await readMessageStatus(messageId, reader, dependencies);
    const body = bodyOf(response);

    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      messageId,
      connectorId: 'orders',
      receivedAt: testNow.toISOString(),
      sizeInBytes: 42,
      sha256: 'ab'.repeat(32),
      runtimeStatus: 'Completed',
      stage: 'delivered',
      outcome: 'delivered',
      entityType: 'order',
      entityKey: '123',
      entityVersion: 3,
    });
  });

  test('lists every attempt per destination', async () => {
    const response = await readMessageStatus(messageId, readerReturning({ runtimeStatus: 'Running' }), dependencies);

    expect(bodyOf(response).destinations).toEqual([
      {
        destinationId: 'erp',
        outcome: 'delivered',
        reason: null,
        statusCode: null,
        updatedAt: null,
        attempts: [
          { attemptNumber: 1, startedAt: testNow.toISOString(), outcome: 'retryable', statusCode: 503, error: 'HTTP 503 Service Unavailable', durationInMilliseconds: 12, responseBodyStart: null },
          { attemptNumber: 2, startedAt: testNow.toISOString(), outcome: 'delivered', statusCode: 200, error: null, durationInMilliseconds: 8, responseBodyStart: null },
        ],
      },
    ]);
  });

  test('includes the audit trail', async () => {
    const response = await readMessageStatus(messageId, readerReturning({ runtimeStatus: 'Running' }), dependencies);

    expect(bodyOf(response).audit).toEqual([{ at: testNow.toISOString(), step: 'received', key: '', detail: { sizeInBytes: 42 } }]);
  });

  test('maps runtime status to outcome', async () => {
    const cases: Array<[{ runtimeStatus: string; output?: unknown }, string]> = [
      [{ runtimeStatus: 'Completed', output: { outcome: 'stale' } }, 'stale'],
      [{ runtimeStatus: 'Failed', output: 'Delivery failed' }, 'failed'],
      [{ runtimeStatus: 'Terminated' }, 'failed'],
      [{ runtimeStatus: 'Running' }, 'pending'],
      [{ runtimeStatus: 'Pending' }, 'pending'],
    ];
    for (const [status, outcome] of cases) {
      const response = await readMessageStatus(messageId, readerReturning(status), dependencies);
      expect(bodyOf(response).outcome, status.runtimeStatus).toBe(outcome);
    }
  });

  test('failed orchestration shows its error', async () => {
    const response = await readMessageStatus(messageId, readerReturning({ runtimeStatus: 'Failed', output: 'Delivery to destination erp failed' }), dependencies);

    expect(bodyOf(response).failure).toBe('Delivery to destination erp failed');
  });

  test('missing instance is pending', async () => {
    const reader = readerReturning(new Error('DurableClient error: Durable Functions extension replied with HTTP 404 response.'));

    const body = bodyOf(await readMessageStatus(messageId, reader, dependencies));

    expect(body.runtimeStatus).toBeNull();
    expect(body.outcome).toBe('pending');
  });

  test('purged instance takes outcome from audit', async () => {
    await dependencies.trackingStore.appendAudit({ messageId, at: testNow.toISOString(), step: 'completed', detail: { outcome: 'delivered' } });
    const reader = readerReturning(new Error('DurableClient error: Durable Functions extension replied with HTTP 404 response.'));

    const body = bodyOf(await readMessageStatus(messageId, reader, dependencies));

    expect(body.runtimeStatus).toBeNull();
    expect(body.outcome).toBe('delivered');
  });

  test('unknown message id gets 404', async () => {
    const response = await readMessageStatus('orders-ffffffffffffffffffffffffffffffff', readerReturning({ runtimeStatus: 'Running' }), dependencies);

    expect(response.status).toBe(404);
    expect(bodyOf(response).title).toBe('Message not found');
  });

  test('malformed message id gets 404', async () => {
    const response = await readMessageStatus('../etc', readerReturning({ runtimeStatus: 'Running' }), dependencies);

    expect(response.status).toBe(404);
  });
});

describe('listChanges', () => {
  let dependencies: TestDependencies;

  beforeEach(async () => {
    dependencies = createTestDependencies();
    for (let version = 1; version <= 3; version++) {
      await dependencies.trackingStore.mirrorEntityState({ connectorId: 'orders', entityType: 'order', entityKey: '1', version, messageId: `orders-${version}`, at: testNow });
    }
  });

  afterEach(() => {
    dependencies.dispose();
  });

  function requestWith(query: Record<string, string>): HttpRequest {
    return new HttpRequest({ method: 'GET', url: 'http://127.0.0.1:7071/api/changes', query });
  }

  test('returns changes after since', async () => {
    const response = await listChanges(requestWith({ since: '1' }), dependencies);
    const body = bodyOf(response);

    expect(response.status).toBe(200);
    expect(body.changes.map((change: { changeVersion: number }) => change.changeVersion)).toEqual([2, 3]);
    expect(body.lastChangeVersion).toBe(3);
  });

  test('since defaults to zero', async () => {
    expect(bodyOf(await listChanges(requestWith({}), dependencies)).changes).toHaveLength(3);
  });

  test('limit bounds the page', async () => {
    const body = bodyOf(await listChanges(requestWith({ since: '0', limit: '2' }), dependencies));

    expect(body.changes).toHaveLength(2);
    expect(body.lastChangeVersion).toBe(2);
  });

  test('non-integer since gets 400', async () => {
    for (const since of ['abc', '1.5', '-1', '']) {
      const response = await listChanges(requestWith({ since }), dependencies);
      expect(response.status, since).toBe(400);
      expect(bodyOf(response).detail, since).toContain('Query parameter since');
    }
  });

  test('limit out of range gets 400', async () => {
    expect((await listChanges(requestWith({ limit: '0' }), dependencies)).status).toBe(400);
    expect((await listChanges(requestWith({ limit: '1001' }), dependencies)).status).toBe(400);
  });

  test('expired since gets 410 with the oldest valid since', async () => {
    dependencies.trackingStore.listChanges = async (since: number) => {
      throw new ChangesExpiredError(since, 40);
    };

    const response = await listChanges(requestWith({ since: '7' }), dependencies);
    const body = bodyOf(response);

    expect(response.status).toBe(410);
    expect(body).toMatchObject({ type: 'urn:api-data-connector:problem:changes-expired', since: 7, oldestValidSince: 40 });
    expect(body.detail).toContain('since=0');
  });
});
