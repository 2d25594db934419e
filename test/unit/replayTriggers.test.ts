import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { processMessageOrchestrationName } from '../../lib/functionNames';
import { clientPrincipalNameHeader } from '../../lib/http/operatorIdentity';
import { cancelBulkReplay, readBulkReplay, startBulkReplay } from '../../triggers/bulkReplays';
import { replayMessage } from '../../triggers/replays';
import { createRecordingStarter } from './support/recordingStarter';
import { createTestDependencies, ordersConnector, testNow, type TestDependencies } from './support/testDependencies';

const originalId = 'orders-0123456789abcdef0123456789abcdef';
const operator = 'ops@example.com';

function bodyOf(response: HttpResponseInit): any {
  return JSON.parse(response.body as string);
}

function postRequest(url: string, body: unknown, headers: Record<string, string> = { [clientPrincipalNameHeader]: operator }): HttpRequest {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new HttpRequest({ method: 'POST', url: `http://127.0.0.1:7071${url}`, body: { string: text }, headers: { 'content-type': 'application/json', ...headers } });
}

/** Creates a connector with the destinations erp and crm. */
function twoDestinationConnector(): Record<string, any> {
  const connector = ordersConnector();
  connector.destinations.push({ ...connector.destinations[0], id: 'crm', url: 'http://127.0.0.1:9000/crm' });
  return connector;
}

describe('replay triggers', () => {
  let dependencies: TestDependencies;

  beforeEach(async () => {
    dependencies = createTestDependencies([twoDestinationConnector()]);
    await addDeliveredMessage(originalId);
  });

  afterEach(() => {
    dependencies.dispose();
  });

  async function addDeliveredMessage(messageId: string): Promise<void> {
    const store = dependencies.trackingStore;
    const rawBlobName = `raw/orders/${messageId}`;
    const digest = await dependencies.payloadStore.put(rawBlobName, Buffer.from('{"orderId":"1"}'), { contentType: 'application/json' });
    await store.claimMessage({ messageId, connectorId: 'orders', dedupKeyHash: 'hash', claimToken: 'token', now: testNow });
    await store.markAccepted(messageId, 'token', { rawBlobName, sizeInBytes: digest.sizeInBytes, sha256: digest.sha256, contentType: 'application/json' });
    await store.setMessageOutcome(messageId, 'delivered', undefined, testNow.toISOString());
  }

  function replay(body: unknown, messageId = originalId, headers?: Record<string, string>) {
    const starter = createRecordingStarter();
    const response = replayMessage(postRequest(`/api/messages/${messageId}/replay`, body, headers), messageId, starter, dependencies);
    return { starter, response };
  }

  describe('single replay', () => {
    test('starts processMessage for a new linked message', async () => {
      const { starter, response } = replay({ reason: 'target fixed' });
      const result = await response;
      const newId = bodyOf(result).messageId;

      expect(result.status).toBe(202);
      expect(newId).not.toBe(originalId);
      expect(starter.starts).toHaveLength(1);
      expect(starter.starts[0].name).toBe(processMessageOrchestrationName);
      expect(starter.starts[0].instanceId).toBe(newId);
      expect(starter.starts[0].input.replay).toEqual({ originalMessageId: originalId, rootMessageId: originalId, retransform: false, reason: 'target fixed', operator });
      expect(starter.starts[0].input.rawBlobName).toBe(`raw/orders/${originalId}`);
    });

    test('replay of a replay keeps the first message as root', async () => {
      const firstReplayId = bodyOf(await replay({ reason: 'target fixed' }).response).messageId;
      await dependencies.trackingStore.setMessageOutcome(firstReplayId, 'deadLettered', 'HTTP 503', testNow.toISOString());

      const { starter, response } = replay({ reason: 'target fixed again' }, firstReplayId);
      await response;

      expect(starter.starts[0].input.replay).toMatchObject({ originalMessageId: firstReplayId, rootMessageId: originalId });
    });

    test('links both messages', async () => {
      const newId = bodyOf(await replay({ reason: 'target fixed' }).response).messageId;

      expect(await dependencies.trackingStore.getMessage(newId)).toMatchObject({ replayOf: originalId, claimState: 'accepted' });
      expect((await dependencies.trackingStore.listReplaysOf(originalId)).map((entry) => entry.messageId)).toEqual([newId]);
    });

    test('audits both messages with the operator', async () => {
      const newId = bodyOf(await replay({ reason: 'target fixed', destinationIds: ['crm'] }).response).messageId;

      const originalAudit = await dependencies.trackingStore.listAudit(originalId);
      const replayAudit = await dependencies.trackingStore.listAudit(newId);
      expect(originalAudit).toMatchObject([{ step: 'replayed', key: newId, detail: { messageId: newId, operator, reason: 'target fixed', destinationIds: ['crm'] } }]);
      expect(replayAudit).toMatchObject([{ step: 'replayRequested', detail: { originalMessageId: originalId, operator, reason: 'target fixed' } }]);
    });

    test('publishes message.replayed', async () => {
      const newId = bodyOf(await replay({ reason: 'target fixed' }).response).messageId;

      expect(dependencies.publishedEvents).toEqual([
        { type: 'message.replayed', messageId: originalId, connectorId: 'orders', time: testNow.toISOString(), key: newId, data: { replayMessageId: newId, operator, reason: 'target fixed' } },
      ]);
    });

    test('request without identity audits unknown', async () => {
      await replay({ reason: 'target fixed' }, originalId, {}).response;

      expect((await dependencies.trackingStore.listAudit(originalId))[0].detail.operator).toBe('unknown');
    });

    test.each([
      ['not json', 'is not valid JSON', undefined],
      [[], 'must be a JSON object', undefined],
      [{}, '"reason" is missing or empty', 'reason'],
      [{ reason: '  ' }, '"reason" is missing or empty', 'reason'],
      [{ reason: 'x'.repeat(1001) }, 'at most 1000', 'reason'],
      [{ reason: 'r', retransform: 'yes' }, '"retransform" is "yes"', 'retransform'],
      [{ reason: 'r', destinationIds: [] }, 'non-empty array of destination ids', 'destinationIds'],
      [{ reason: 'r', destinationIds: [7] }, 'non-empty array of destination ids', 'destinationIds'],
      [{ reason: 'r', destination: 'erp' }, 'unknown member "destination"', 'destination'],
    ])('replay rejects body %j', async (body, detail, member) => {
      const { starter, response } = replay(body);
      const result = await response;

      expect(result.status).toBe(400);
      expect(bodyOf(result).type).toBe('urn:api-data-connector:problem:invalid-request-body');
      expect(bodyOf(result).detail).toContain(detail);
      expect(bodyOf(result).member).toBe(member);
      expect(starter.starts).toHaveLength(0);
    });

    test('unknown destination names the valid ones', async () => {
      const result = await replay({ reason: 'r', destinationIds: ['erp', 'billing'] }).response;

      expect(result.status).toBe(400);
      expect(bodyOf(result)).toMatchObject({ destinationId: 'billing', validDestinationIds: ['erp', 'crm'] });
      expect(bodyOf(result).detail).toBe('Connector "orders" has no destination "billing". Use destination ids of that connector: erp, crm.');
    });

    test('unknown message is 404', async () => {
      const result = await replay({ reason: 'r' }, 'orders-ffffffffffffffffffffffffffffffff').response;

      expect(result.status).toBe(404);
      expect(bodyOf(result).type).toBe('urn:api-data-connector:problem:message-not-found');
    });

    test('malformed message id is 404', async () => {
      const result = await replay({ reason: 'r' }, 'not a message').response;

      expect(result.status).toBe(404);
    });

    test('message without raw payload is 410', async () => {
      await dependencies.payloadStore.delete(`raw/orders/${originalId}`);

      const result = await replay({ reason: 'r' }).response;

      expect(result.status).toBe(410);
      expect(bodyOf(result).detail).toBe(
        `The raw payload of message ${originalId} is no longer in the payload store (raw/orders/${originalId}), so it cannot be replayed. Ask the partner to send the payload again.`,
      );
    });

    test('message still processing is 409', async () => {
      dependencies.trackingStore.db.prepare('UPDATE messages SET outcome = NULL').run();
      const starter = { ...createRecordingStarter(), getStatus: async () => ({ runtimeStatus: 'Running' }) };

      const result = await replayMessage(postRequest(`/api/messages/${originalId}/replay`, { reason: 'r' }), originalId, starter, dependencies);

      expect(result.status).toBe(409);
      expect(bodyOf(result)).toMatchObject({ type: 'urn:api-data-connector:problem:message-processing', runtimeStatus: 'Running' });
    });

    test('finished instance without outcome can be replayed', async () => {
      dependencies.trackingStore.db.prepare('UPDATE messages SET outcome = NULL').run();
      const starter = { ...createRecordingStarter(), getStatus: async () => ({ runtimeStatus: 'Failed' }) };

      const result = await replayMessage(postRequest(`/api/messages/${originalId}/replay`, { reason: 'r' }), originalId, starter, dependencies);

      expect(result.status).toBe(202);
    });

    test('message of a removed connector is 409', async () => {
      dependencies.trackingStore.db.prepare(`UPDATE messages SET connector_id = 'gone'`).run();

      const result = await replay({ reason: 'r' }).response;

      expect(result.status).toBe(409);
      expect(bodyOf(result).type).toBe('urn:api-data-connector:problem:unknown-connector');
    });

    test('failed start releases the claim and is 503', async () => {
      const starter = {
        ...createRecordingStarter(),
        startNew: async () => {
          throw new Error('durable client unavailable');
        },
      };

      const result = await replayMessage(postRequest(`/api/messages/${originalId}/replay`, { reason: 'r' }), originalId, starter, dependencies);

      expect(result.status).toBe(503);
      expect(await dependencies.trackingStore.listReplaysOf(originalId)).toEqual([]);
    });
  });

  describe('bulk replay', () => {
    function startBulk(body: unknown) {
      const starter = createRecordingStarter();
      const response = startBulkReplay(postRequest('/api/replays', body), starter, dependencies);
      return { starter, response };
    }

    test('dry run counts and changes nothing', async () => {
      await addDeliveredMessage('orders-11111111111111111111111111111111');
      const { starter, response } = startBulk({ filter: { connectorId: 'orders' }, reason: 'r', dryRun: true });
      const result = await response;

      expect(result.status).toBe(200);
      expect(bodyOf(result)).toEqual({ dryRun: true, total: 2, messageIds: [originalId, 'orders-11111111111111111111111111111111'] });
      expect(starter.starts).toHaveLength(0);
      expect(dependencies.trackingStore.db.prepare('SELECT COUNT(*) AS count FROM replays').get()).toEqual({ count: 0 });
    });

    test('start stores the replay and starts bulkReplay', async () => {
      const { starter, response } = startBulk({ filter: { outcome: 'delivered' }, reason: 'r', requestsPerSecond: 2 });
      const result = await response;
      const replayId = bodyOf(result).replayId;

      expect(result.status).toBe(202);
      expect(bodyOf(result).total).toBe(1);
      expect(starter.starts).toEqual([{ name: 'bulkReplay', instanceId: replayId, input: { replayId, requestsPerSecond: 2 } }]);
      expect(await dependencies.trackingStore.replays.getBulkReplay(replayId)).toMatchObject({ state: 'running', operator, requestsPerSecond: 2 });
      expect(await dependencies.trackingStore.listAudit(replayId)).toMatchObject([{ step: 'bulkReplayStarted', detail: { operator, reason: 'r' } }]);
    });

    test.each([
      [{ reason: 'r' }, 'no "filter" object', 'filter'],
      [{ filter: [], reason: 'r' }, 'no "filter" object', 'filter'],
      [{ filter: {} }, '"reason" is missing', 'reason'],
      [{ filter: {}, reason: 'r', dryrun: true }, 'unknown member "dryrun"', 'dryrun'],
      [{ filter: { conectorId: 'orders' }, reason: 'r' }, '"filter" has the unknown member "conectorId"', 'filter.conectorId'],
      [{ filter: { connectorId: 'billing' }, reason: 'r' }, '"filter.connectorId" is "billing", which is not in the connectors file. Use one of orders.', 'filter.connectorId'],
      [{ filter: { connectorId: 7 }, reason: 'r' }, 'must be a non-empty string', 'filter.connectorId'],
      [{ filter: { outcome: 'pending' }, reason: 'r' }, '"filter.outcome" is "pending"', 'filter.outcome'],
      [{ filter: { receivedFrom: 'yesterday' }, reason: 'r' }, '"filter.receivedFrom" is "yesterday", but it must be an ISO 8601 date-time', 'filter.receivedFrom'],
      [{ filter: { receivedTo: '2024-13-01T00:00:00Z' }, reason: 'r' }, '"filter.receivedTo" is "2024-13-01T00:00:00Z"', 'filter.receivedTo'],
      [{ filter: {}, reason: 'r', dryRun: 'yes' }, '"dryRun" is "yes"', 'dryRun'],
      [{ filter: {}, reason: 'r', requestsPerSecond: 0 }, 'greater than 0 and at most 50', 'requestsPerSecond'],
      [{ filter: {}, reason: 'r', requestsPerSecond: 51 }, 'greater than 0 and at most 50', 'requestsPerSecond'],
      [{ filter: {}, reason: 'r', requestsPerSecond: '5' }, 'greater than 0 and at most 50', 'requestsPerSecond'],
      [{ filter: {}, reason: 'r', destinationIds: ['erp'] }, '"destinationIds" needs "filter.connectorId"', 'destinationIds'],
    ])('bulk replay rejects body %j', async (body, detail, member) => {
      const { starter, response } = startBulk(body);
      const result = await response;

      expect(result.status).toBe(400);
      expect(bodyOf(result).detail).toContain(detail);
      expect(bodyOf(result).member).toBe(member);
      expect(starter.starts).toHaveLength(0);
    });

    test('bulk replay rejects an unknown destination', async () => {
      const result = await startBulk({ filter: { connectorId: 'orders' }, reason: 'r', destinationIds: ['billing'] }).response;

      expect(result.status).toBe(400);
      expect(bodyOf(result)).toMatchObject({ type: 'urn:api-data-connector:problem:unknown-destination', validDestinationIds: ['erp', 'crm'] });
    });

    test('status of unknown replay is 404', async () => {
      const result = await readBulkReplay('replay-00000000000000000000000000000000', dependencies);

      expect(result.status).toBe(404);
      expect(bodyOf(result).type).toBe('urn:api-data-connector:problem:replay-not-found');
    });

    test('cancel stops a running replay and audits it', async () => {
      const replayId = bodyOf(await startBulk({ filter: {}, reason: 'r' }).response).replayId;

      const result = await cancelBulkReplay(postRequest(`/api/replays/${replayId}/cancel`, { reason: 'wrong filter' }), replayId, dependencies);

      expect(result.status).toBe(200);
      expect(bodyOf(await readBulkReplay(replayId, dependencies))).toMatchObject({ state: 'cancelled', cancelReason: 'wrong filter', cancelledBy: operator });
      expect((await dependencies.trackingStore.listAudit(replayId)).map((entry) => entry.step)).toEqual(['bulkReplayStarted', 'bulkReplayCancelled']);
    });

    test('cancel of a finished replay is 409', async () => {
      const replayId = bodyOf(await startBulk({ filter: {}, reason: 'r' }).response).replayId;
      await dependencies.trackingStore.replays.finishBulkReplay(replayId, 'completed', testNow.toISOString());

      const result = await cancelBulkReplay(postRequest(`/api/replays/${replayId}/cancel`, { reason: 'late' }), replayId, dependencies);

      expect(result.status).toBe(409);
      expect(bodyOf(result)).toMatchObject({ type: 'urn:api-data-connector:problem:replay-finished', state: 'completed' });
    });

    test('cancel needs a reason', async () => {
      const replayId = bodyOf(await startBulk({ filter: {}, reason: 'r' }).response).replayId;

      const result = await cancelBulkReplay(postRequest(`/api/replays/${replayId}/cancel`, {}), replayId, dependencies);

      expect(result.status).toBe(400);
      expect(bodyOf(result).member).toBe('reason');
    });

    test('cancel of unknown replay is 404', async () => {
      const result = await cancelBulkReplay(postRequest('/api/replays/replay-x/cancel', { reason: 'r' }), 'replay-x', dependencies);

      expect(result.status).toBe(404);
    });
  });
});
