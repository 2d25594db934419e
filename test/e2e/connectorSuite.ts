import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryInstanceId, createMessageId, rawBlobNameOf } from '../../lib/ids';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type ReceivedRequest, type TargetServer } from '../helpers/targetServer';
import {
  createTempFolder,
  functionKey,
  jsonBytes,
  listInstanceIds,
  listStoredPayloads,
  type MessageStatus,
  newDedupKey,
  postMessage,
  readHostPayload,
  readManagementApi,
  readStatus,
  removeTempFolders,
  sendMessage,
  sha256Hex,
  sign,
  startConnectorHost,
  waitForTerminalStatus,
  writeConnectorsFile,
} from './support';

/**
 * Defines the end-to-end tests of the connector app on the local host, run as a separate process
 * with real HTTP requests. Its destinations are paths on one loopback target server. `hostEnv` is
 * added to the host's environment, so that the same tests run in each way the host can run functions.
 */
export function defineConnectorTests(hostEnv: Record<string, string>): void {
  const ordersMaxBodyBytes = 16_384;
  const ordersTransform = "{ 'id': orderId, 'state': status, 'customer': customer, 'note': note, 'updatedAt': updatedAt }";
  const historyLimitBytes = 16 * 1024;

  let target: TargetServer;
  let host: HostProcess;
  let dataDir: string;

  beforeAll(async () => {
    target = await startTargetServer();
    target.plan('/flaky', (_request, index) => (index < 2 ? 503 : 200));
    target.plan('/broken', () => 500);

    const folder = createTempFolder('e2e-connector-');
    dataDir = path.join(folder, 'data');
    const connectorsFile = writeConnectorsFile(folder, target.url, [
      {
        id: 'orders',
        maxBodyBytes: ordersMaxBodyBytes,
        entity: { type: 'order', key: 'orderId', version: 'updatedAt' },
        transform: ordersTransform,
        destinations: [{ id: 'erp', path: '/orders' }],
      },
      { id: 'bulk', transform: "{ 'batchId': batchId, 'items': items }", destinations: [{ id: 'warehouse', path: '/bulk' }] },
      { id: 'flaky', destinations: [{ id: 'crm', path: '/flaky', maxAttempts: 3 }] },
      { id: 'broken', destinations: [{ id: 'billing', path: '/broken', maxAttempts: 3 }] },
    ]);
    host = await startConnectorHost(connectorsFile, dataDir, hostEnv);
  });

  afterAll(async () => {
    await host?.stop();
    await target?.close();
    removeTempFolders();
  });

  let orderNumber = 0;

  /** Returns an order payload with an order id that no other test uses. */
  function newOrder(fields: Record<string, unknown> = {}): Record<string, unknown> {
    orderNumber += 1;
    return { orderId: `ORD-${orderNumber}`, status: 'paid', updatedAt: '2024-05-01T10:00:00Z', ...fields };
  }

  function requestsWithIdempotencyKey(idempotencyKey: string): ReceivedRequest[] {
    return target.requests.filter((request) => request.headers['idempotency-key'] === idempotencyKey);
  }

  function attemptsOf(status: MessageStatus): MessageStatus['destinations'][number]['attempts'] {
    return status.destinations[0]?.attempts ?? [];
  }

  describe('UTF-8 payload with emoji and CJK', () => {
    const order = {
      orderId: 'ORD-Zoë-1',
      status: 'versandt',
      updatedAt: '2024-05-03T08:30:00Z',
      customer: 'Zoë Ångström',
      note: '配送済み 🚚📦 お届け予定',
      city: '東京',
    };
    // Indented, so that a payload re-serialised from the parsed JSON would not match the sent bytes.
    const sentBytes = Buffer.from(JSON.stringify(order, null, 2), 'utf8');
    let messageId: string;
    let status: MessageStatus;

    beforeAll(async () => {
      messageId = await sendMessage(host.baseUrl, 'orders', sentBytes);
      status = await waitForTerminalStatus(host.baseUrl, messageId);
    });

    it('target receives the transform result', () => {
      const [delivery] = requestsWithIdempotencyKey(createDeliveryInstanceId(messageId, 'erp'));

      expect(JSON.parse(delivery.body.toString('utf8'))).toEqual({
        id: order.orderId,
        state: order.status,
        customer: order.customer,
        note: order.note,
        updatedAt: order.updatedAt,
      });
    });

    it('payload store keeps the exact raw bytes', async () => {
      const stored = await readHostPayload(dataDir, rawBlobNameOf('orders', messageId));

      expect(sha256Hex(stored?.bytes ?? Buffer.alloc(0))).toBe(sha256Hex(sentBytes));
      expect(status.sha256).toBe(sha256Hex(sentBytes));
      expect(status.sizeInBytes).toBe(sentBytes.byteLength);
    });

    it('status shows one delivered attempt', () => {
      expect(status.runtimeStatus).toBe('Completed');
      expect(status.outcome).toBe('delivered');
      expect(attemptsOf(status)).toHaveLength(1);
    });

    it('status shows the entity', () => {
      expect(status.entityType).toBe('order');
      expect(status.entityKey).toBe(order.orderId);
      expect(status.entityVersion).toBe(order.updatedAt);
    });

    it('audit trail records the steps', () => {
      const steps = status.audit.map((entry) => entry.step);

      expect(steps).toContain('received');
      expect(steps).toContain('transformed');
      expect(steps).toContain('completed');
    });

    it('changes list the entity', async () => {
      const response = await fetch(`${host.baseUrl}/api/changes?since=0`, { headers: { 'x-functions-key': functionKey } });
      const page = (await response.json()) as { changes: Array<Record<string, unknown>> };

      expect(response.status).toBe(200);
      expect(page.changes.find((change) => change.messageId === messageId)).toMatchObject({
        connectorId: 'orders',
        entityType: 'order',
        entityKey: order.orderId,
        version: order.updatedAt,
      });
    });
  });

  describe('large payload', () => {
    it('200 KB payload stays out of the history', async () => {
      const items = Array.from({ length: 1600 }, (_, index) => ({
        sku: `SKU-${index}`,
        description: 'x'.repeat(100),
        quantity: index,
      }));
      const sentBytes = jsonBytes({ batchId: 'batch-1', items });
      expect(sentBytes.byteLength).toBeGreaterThanOrEqual(200 * 1024);

      const messageId = await sendMessage(host.baseUrl, 'bulk', sentBytes);
      const status = await waitForTerminalStatus(host.baseUrl, messageId);
      const instance = await readManagementApi<{ historyEvents?: unknown[] }>(
        host.baseUrl,
        `instances/${messageId}?showHistory=true&showHistoryOutput=true`,
      );
      const [delivery] = requestsWithIdempotencyKey(createDeliveryInstanceId(messageId, 'warehouse'));

      expect(status.outcome).toBe('delivered');
      expect(delivery.body.byteLength).toBeGreaterThanOrEqual(200 * 1024);
      expect(instance.historyEvents?.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(JSON.stringify(instance.historyEvents))).toBeLessThan(historyLimitBytes);
    });
  });

  describe('deduplication', () => {
    it('second send returns 200 with the same id', async () => {
      const body = jsonBytes(newOrder());
      const dedupKey = newDedupKey();

      const first = await postMessage(host.baseUrl, 'orders', body, { dedupKey });
      const second = await postMessage(host.baseUrl, 'orders', body, { dedupKey });
      const firstId = ((await first.json()) as { messageId: string }).messageId;
      const secondId = ((await second.json()) as { messageId: string }).messageId;
      await waitForTerminalStatus(host.baseUrl, firstId);

      expect(first.status).toBe(202);
      expect(second.status).toBe(200);
      expect(secondId).toBe(firstId);
    });

    it('10 concurrent sends give one 202 and one delivery', async () => {
      const body = jsonBytes(newOrder());
      const dedupKey = newDedupKey();

      const responses = await Promise.all(Array.from({ length: 10 }, () => postMessage(host.baseUrl, 'orders', body, { dedupKey })));
      const messageIds = await Promise.all(responses.map(async (response) => ((await response.json()) as { messageId: string }).messageId));
      const statusCodes = responses.map((response) => response.status);
      await waitForTerminalStatus(host.baseUrl, messageIds[0]);

      expect(statusCodes.filter((code) => code === 202)).toHaveLength(1);
      expect(statusCodes.filter((code) => code === 200)).toHaveLength(9);
      expect(new Set(messageIds).size).toBe(1);
      expect(requestsWithIdempotencyKey(createDeliveryInstanceId(messageIds[0], 'erp'))).toHaveLength(1);
    });
  });

  describe('entity ordering', () => {
    it('older version after a newer one is stale', async () => {
      const newer = newOrder({ updatedAt: '2024-05-02T10:00:00Z' });
      const older = { ...newer, status: 'created', updatedAt: '2024-05-01T10:00:00Z' };

      const newerId = await sendMessage(host.baseUrl, 'orders', jsonBytes(newer));
      await waitForTerminalStatus(host.baseUrl, newerId);
      const olderId = await sendMessage(host.baseUrl, 'orders', jsonBytes(older));
      const status = await waitForTerminalStatus(host.baseUrl, olderId);

      expect(status.runtimeStatus).toBe('Completed');
      expect(status.outcome).toBe('stale');
      expect(attemptsOf(status)).toHaveLength(0);
      expect(status.destinations[0].outcome).toBe('skipped');
      expect(requestsWithIdempotencyKey(createDeliveryInstanceId(olderId, 'erp'))).toHaveLength(0);
    });
  });

  describe('delivery retries', () => {
    it('503 twice then 200 is delivered on attempt 3', async () => {
      const messageId = await sendMessage(host.baseUrl, 'flaky', jsonBytes({ contactId: 'C-1' }));
      const status = await waitForTerminalStatus(host.baseUrl, messageId);
      const requests = target.requests.filter((request) => request.path === '/flaky');

      expect(status.outcome).toBe('delivered');
      expect(status.destinations[0].outcome).toBe('delivered');
      expect(attemptsOf(status).map((attempt) => attempt.statusCode)).toEqual([503, 503, 200]);
      expect(requests).toHaveLength(3);
      expect(new Set(requests.map((request) => request.headers['idempotency-key'])).size).toBe(1);
      expect(requests[0].headers['idempotency-key']).toBe(createDeliveryInstanceId(messageId, 'crm'));
    });

    it('500 on every attempt fails after maxAttempts', async () => {
      const messageId = await sendMessage(host.baseUrl, 'broken', jsonBytes({ invoiceId: 'INV-1' }));
      const status = await waitForTerminalStatus(host.baseUrl, messageId);
      const failure = JSON.stringify(status.failure);

      expect(status.runtimeStatus).toBe('Failed');
      expect(status.outcome).toBe('deadLettered');
      expect(status.destinations[0].outcome).toBe('deadLettered');
      expect(attemptsOf(status)).toHaveLength(3);
      expect(target.requests.filter((request) => request.path === '/broken')).toHaveLength(3);
      expect(failure).toContain('billing');
      expect(failure).toContain('500');
    });
  });

  describe('rejected requests', () => {
    interface RejectedCase {
      name: string;
      status: number;
      connectorId?: string;
      body?: Buffer;
      /** Returns the signature header value for the body, or null to send none. By default the body is signed correctly. */
      signature?: (body: Buffer) => string | null;
      contentType?: string;
    }

    const rejectedCases: RejectedCase[] = [
      { name: 'unknown connector', status: 404, connectorId: 'no-such-connector' },
      { name: 'missing signature', status: 401, signature: () => null },
      { name: 'wrong signature', status: 401, signature: (body) => sign(body, 'another-secret') },
      { name: 'body over maxBodyBytes', status: 413, body: jsonBytes(newOrder({ note: 'x'.repeat(ordersMaxBodyBytes) })) },
      { name: 'invalid JSON', status: 400, body: Buffer.from('{"orderId": "ORD-broken",', 'utf8') },
      { name: 'wrong content type', status: 415, contentType: 'text/plain' },
    ];

    it.each(rejectedCases)('$name gets $status', async ({ status, connectorId = 'orders', body = jsonBytes(newOrder()), signature = sign, contentType }) => {
      const dedupKey = newDedupKey();
      const payloadFilesBefore = listStoredPayloads(dataDir);
      const instanceIdsBefore = await listInstanceIds(host.baseUrl);

      const response = await postMessage(host.baseUrl, connectorId, body, { dedupKey, signature: signature(body), contentType });
      const problem = (await response.json()) as { title?: unknown; detail?: unknown };
      const statusResponse = await fetch(`${host.baseUrl}/api/messages/${createMessageId(connectorId, dedupKey)}`, {
        headers: { 'x-functions-key': functionKey },
      });

      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(problem.title).toMatch(/\S/);
      expect(problem.detail).toMatch(/\S/);
      expect(listStoredPayloads(dataDir)).toEqual(payloadFilesBefore);
      expect(await listInstanceIds(host.baseUrl)).toEqual(instanceIdsBefore);
      expect(statusResponse.status).toBe(404);
    });
  });

  describe('operator endpoints', () => {
    it('status without key gets 401', async () => {
      const messageId = await sendMessage(host.baseUrl, 'orders', jsonBytes(newOrder()));
      await waitForTerminalStatus(host.baseUrl, messageId);

      const response = await fetch(`${host.baseUrl}/api/messages/${messageId}`);

      expect(response.status).toBe(401);
      expect((await readStatus(host.baseUrl, messageId)).messageId).toBe(messageId);
    });

    it('changes without key gets 401', async () => {
      const response = await fetch(`${host.baseUrl}/api/changes?since=0`);

      expect(response.status).toBe(401);
    });

    it('management API without key gets 401', async () => {
      const response = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances`);

      expect(response.status).toBe(401);
    });
  });
}
