import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import { listMessages, readOperatorStatus } from './operatorSupport';
import { createTempFolder, jsonBytes, newDedupKey, removeTempFolders, sendMessage, startConnectorHost, waitForTerminalStatus, writeConnectorsFile } from './support';

/** Lists messages of two connectors by each filter of `GET /api/messages`. */

let target: TargetServer;
let host: HostProcess;
const orderIds: string[] = [];
const invoiceIds: string[] = [];
const orderDedupKeys: string[] = [];
let orderReceivedAt: string[] = [];

beforeAll(async () => {
  target = await startTargetServer();
  const folder = createTempFolder('e2e-message-list-');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    { id: 'orders', entity: { type: 'order', key: 'orderId', version: 'updatedAt' }, destinations: [{ id: 'erp', path: '/erp' }] },
    { id: 'invoices', destinations: [{ id: 'billing', path: '/billing' }] },
  ]);
  host = await startConnectorHost(connectorsFile, path.join(folder, 'data'));

  for (let index = 0; index < 3; index++) {
    const dedupKey = newDedupKey();
    orderDedupKeys.push(dedupKey);
    orderIds.push(await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: `ORD-${index}`, updatedAt: `2026-12-04T12:00:0${index}Z` }), dedupKey));
  }
  for (let index = 0; index < 2; index++) {
    invoiceIds.push(await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId: `INV-${index}` })));
  }
  for (const messageId of [...orderIds, ...invoiceIds]) {
    await waitForTerminalStatus(host.baseUrl, messageId);
  }
  orderReceivedAt = await Promise.all(orderIds.map(async (messageId) => (await readOperatorStatus(host.baseUrl, messageId)).receivedAt));
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

async function listIds(query: Record<string, string>): Promise<string[]> {
  const response = await listMessages(host.baseUrl, query);
  if (response.status !== 200) {
    throw new Error(`GET /api/messages responded with ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body.messages.map((message) => message.messageId);
}

describe('GET /api/messages', () => {
  it('lists every message', async () => {
    expect((await listIds({})).sort()).toEqual([...invoiceIds, ...orderIds].sort());
    expect(target.requests).toHaveLength(5);
  });

  it('lists newest first', async () => {
    const response = await listMessages(host.baseUrl, {});
    const receivedTimes = response.body.messages.map((message) => message.receivedAt);

    expect(receivedTimes).toEqual([...receivedTimes].sort().reverse());
  });

  it('filters by connector', async () => {
    expect((await listIds({ connectorId: 'invoices' })).sort()).toEqual([...invoiceIds].sort());
  });

  it('filters by entity key', async () => {
    expect(await listIds({ entityKey: 'ORD-1' })).toEqual([orderIds[1]]);
  });

  it('filters by dedup key', async () => {
    expect(await listIds({ dedupKey: orderDedupKeys[2] })).toEqual([orderIds[2]]);
  });

  it('filters by destination', async () => {
    expect((await listIds({ destinationId: 'billing' })).sort()).toEqual([...invoiceIds].sort());
  });

  it('filters by receive time', async () => {
    const [receivedFrom, receivedTo] = [orderReceivedAt[1], orderReceivedAt[2]];
    // Messages received in the same millisecond share a time, so the expected ids come from the times.
    const expected = orderIds.filter((_messageId, index) => orderReceivedAt[index] >= receivedFrom && orderReceivedAt[index] < receivedTo);

    expect((await listIds({ connectorId: 'orders', receivedFrom, receivedTo })).sort()).toEqual(expected.sort());
    expect(expected).not.toContain(orderIds[2]);
  });

  it('pages with the continuation token', async () => {
    const first = await listMessages(host.baseUrl, { limit: '3' });
    const second = await listMessages(host.baseUrl, { limit: '3', continuationToken: first.body.continuationToken ?? '' });

    const pagedIds = [...first.body.messages, ...second.body.messages].map((message) => message.messageId);

    expect(first.body.messages).toHaveLength(3);
    expect(pagedIds.sort()).toEqual([...invoiceIds, ...orderIds].sort());
    expect(second.body.continuationToken).toBeNull();
  });

  it('rejects a token that does not parse', async () => {
    const response = await listMessages(host.baseUrl, { continuationToken: 'not-a-token' });

    expect(response.status).toBe(400);
    expect((response.body as unknown as { parameter: string }).parameter).toBe('continuationToken');
  });

  it('rejects a limit over 500', async () => {
    const response = await listMessages(host.baseUrl, { limit: '501' });

    expect(response.status).toBe(400);
  });
});
