import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import { purgeInstance, postReplay, readOperatorStatus, waitForRequestCount, type OperatorMessageStatus } from './operatorSupport';
import { createTempFolder, jsonBytes, removeTempFolders, sendMessage, startConnectorHost, waitForTerminalStatus, writeConnectorsFile } from './support';

/**
 * Replays a delivered message of a connector without an entity, so that the replay delivers
 * again, and reads both statuses. The host runs with LOCAL_OPERATOR_NAME set, and each replay
 * request also sends its own x-ms-client-principal-name, which the host must replace.
 */

const operatorName = 'ops-e2e';
const forgedOperatorHeaders = { 'x-ms-client-principal-name': 'intruder' };

let target: TargetServer;
let host: HostProcess;

beforeAll(async () => {
  target = await startTargetServer();
  const folder = createTempFolder('e2e-replay-');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    {
      id: 'invoices',
      destinations: [
        { id: 'billing', path: '/billing' },
        { id: 'archive', path: '/archive' },
      ],
    },
    { id: 'orders', entity: { type: 'order', key: 'orderId', version: 'version' }, destinations: [{ id: 'erp', path: '/erp' }] },
  ]);
  host = await startConnectorHost(connectorsFile, path.join(folder, 'data'), { LOCAL_OPERATOR_NAME: operatorName });
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

/** Sends an invoice and waits until it is delivered to both destinations. */
async function sendDeliveredInvoice(invoiceId: string): Promise<string> {
  const before = target.requests.length;
  const messageId = await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId }));
  await waitForTerminalStatus(host.baseUrl, messageId);
  await waitForRequestCount(target, before + 2);
  return messageId;
}

describe('single replay of a delivered message', () => {
  let originalId: string;
  let replayId: string;
  let requestsBeforeReplay: number;
  let original: OperatorMessageStatus;
  let replay: OperatorMessageStatus;

  beforeAll(async () => {
    originalId = await sendDeliveredInvoice('INV-1');
    requestsBeforeReplay = target.requests.length;

    const response = await postReplay(host.baseUrl, originalId, { reason: 'billing lost the invoice' }, forgedOperatorHeaders);
    if (response.status !== 202) {
      throw new Error(`Replay responded with ${response.status}: ${JSON.stringify(response.body)}`);
    }
    replayId = response.body.messageId;
    await waitForTerminalStatus(host.baseUrl, replayId);
    await waitForRequestCount(target, requestsBeforeReplay + 2);
    original = await readOperatorStatus(host.baseUrl, originalId);
    replay = await readOperatorStatus(host.baseUrl, replayId);
  });

  it('delivers again to each destination', () => {
    const replayRequests = target.requests.slice(requestsBeforeReplay);

    expect(replayRequests.map((request) => request.path).sort()).toEqual(['/archive', '/billing']);
  });

  it('replay sends the Idempotency-Key of the original', () => {
    const replayRequest = target.requests.slice(requestsBeforeReplay).find((request) => request.path === '/billing');

    expect(replayRequest?.headers['idempotency-key']).toBe(`${originalId}:billing`);
  });

  it('replay is a new message', () => {
    expect(replayId).not.toBe(originalId);
    expect(replay.outcome).toBe('delivered');
  });

  it('replay status shows its original', () => {
    expect(replay.replayOf).toBe(originalId);
  });

  it('original status lists the replay', () => {
    expect(original.replays.map((entry) => entry.messageId)).toEqual([replayId]);
  });

  it('original audit names the configured operator', () => {
    const entry = original.audit.find((auditEntry) => auditEntry.step === 'replayed');

    expect(entry?.key).toBe(replayId);
    expect(entry?.detail).toMatchObject({ messageId: replayId, operator: operatorName, reason: 'billing lost the invoice' });
  });

  it('replay audit names the operator and the original', () => {
    const entry = replay.audit.find((auditEntry) => auditEntry.step === 'replayRequested');

    expect(entry?.detail).toMatchObject({ originalMessageId: originalId, operator: operatorName, reason: 'billing lost the invoice' });
  });
});

describe('replay with retransform', () => {
  it('sends the Idempotency-Key of the replay', async () => {
    const originalId = await sendDeliveredInvoice('INV-9');
    const before = target.requests.length;

    const response = await postReplay(host.baseUrl, originalId, { reason: 'transform corrected', retransform: true, destinationIds: ['billing'] });
    await waitForTerminalStatus(host.baseUrl, response.body.messageId);
    await waitForRequestCount(target, before + 1);

    expect(target.requests[before].headers['idempotency-key']).toBe(`${response.body.messageId}:billing`);
  });
});

describe('replay of an older entity version', () => {
  let requestsBeforeReplay: number;
  let replay: OperatorMessageStatus;

  beforeAll(async () => {
    const first = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'ORD-1', version: 1 }));
    await waitForTerminalStatus(host.baseUrl, first);
    const second = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'ORD-1', version: 2 }));
    await waitForTerminalStatus(host.baseUrl, second);
    requestsBeforeReplay = target.requests.length;

    const response = await postReplay(host.baseUrl, first, { reason: 'erp lost version 1' });
    await waitForTerminalStatus(host.baseUrl, response.body.messageId);
    replay = await readOperatorStatus(host.baseUrl, response.body.messageId);
  });

  it('is not delivered', () => {
    expect(target.requests.length).toBe(requestsBeforeReplay);
  });

  it('ends stale', () => {
    expect(replay.outcome).toBe('stale');
  });

  it('says a newer version was accepted', () => {
    expect(replay.outcomeReason).toContain('accepted a newer version since the replayed message');
  });
});

describe('replay of the newest entity version', () => {
  it('is delivered', async () => {
    const messageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'ORD-2', version: 1 }));
    await waitForTerminalStatus(host.baseUrl, messageId);
    const before = target.requests.length;

    const response = await postReplay(host.baseUrl, messageId, { reason: 'erp restored from backup' });
    const replay = await waitForTerminalStatus(host.baseUrl, response.body.messageId);

    expect(replay.outcome).toBe('delivered');
    expect(target.requests.length).toBe(before + 1);
  });
});

describe('replay rejections', () => {
  let messageId: string;

  beforeAll(async () => {
    messageId = await sendDeliveredInvoice('INV-2');
  });

  it('replay needs a reason', async () => {
    const before = target.requests.length;

    const response = await postReplay(host.baseUrl, messageId, { destinationIds: ['billing'] });

    expect(response.status).toBe(400);
    expect(response.body.member).toBe('reason');
    expect(target.requests.length).toBe(before);
  });

  it('replay to an unknown destination names the valid ones', async () => {
    const response = await postReplay(host.baseUrl, messageId, { reason: 'r', destinationIds: ['erp'] });

    expect(response.status).toBe(400);
    expect(response.body.validDestinationIds).toEqual(['billing', 'archive']);
  });

  it('replay of an unknown message is 404', async () => {
    const response = await postReplay(host.baseUrl, 'invoices-00000000000000000000000000000000', { reason: 'r' });

    expect(response.status).toBe(404);
  });

  it('replay without the host key is 401', async () => {
    const response = await fetch(`${host.baseUrl}/api/messages/${messageId}/replay`, { method: 'POST', body: JSON.stringify({ reason: 'r' }) });

    expect(response.status).toBe(401);
  });
});

describe('status after purge', () => {
  let messageId: string;
  let purgeStatus: number;
  let status: OperatorMessageStatus;

  beforeAll(async () => {
    messageId = await sendDeliveredInvoice('INV-3');
    purgeStatus = await purgeInstance(host.baseUrl, messageId);
    status = await readOperatorStatus(host.baseUrl, messageId);
  });

  it('purge deletes the instance', () => {
    expect(purgeStatus).toBe(200);
    expect(status.runtimeStatus).toBeNull();
  });

  it('status keeps the outcome', () => {
    expect(status.outcome).toBe('delivered');
  });

  it('status keeps attempts and audit', () => {
    expect(status.destinations.map((destination) => destination.attempts.length)).toEqual([1, 1]);
    expect(status.audit.map((entry) => entry.step)).toContain('received');
  });

  it('purged message can be replayed', async () => {
    const before = target.requests.length;

    const response = await postReplay(host.baseUrl, messageId, { reason: 'after purge' });
    await waitForTerminalStatus(host.baseUrl, response.body.messageId);

    expect(response.status).toBe(202);
    expect(await waitForRequestCount(target, before + 2)).toBe(before + 2);
  });
});
