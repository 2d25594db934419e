import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import { listMessages, postBulkReplay, postReplay, readOperatorStatus, waitForBulkReplay, waitForRequestCount } from './operatorSupport';
import { createTempFolder, jsonBytes, removeTempFolders, sendMessage, startConnectorHost, waitForTerminalStatus, writeConnectorsFile } from './support';

/**
 * Replays and listings that rely on what `processMessage` stores and does for a replay: the
 * message outcome in the tracking store, and delivery to the chosen destinations only.
 */

let target: TargetServer;
let host: HostProcess;
let billingRejects = false;

beforeAll(async () => {
  target = await startTargetServer();
  target.plan('/billing', () => (billingRejects ? 400 : 200));
  const folder = createTempFolder('e2e-replay-contract-');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    {
      id: 'invoices',
      destinations: [
        { id: 'billing', path: '/billing', maxAttempts: 1 },
        { id: 'archive', path: '/archive' },
      ],
    },
  ]);
  host = await startConnectorHost(connectorsFile, path.join(folder, 'data'));
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

function requestsTo(pathName: string): number {
  return target.requests.filter((request) => request.path === pathName).length;
}

describe('replay to chosen destinations', () => {
  let originalId: string;
  let replayId: string;
  let archiveBefore: number;
  let billingBefore: number;

  beforeAll(async () => {
    originalId = await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId: 'INV-10' }));
    await waitForTerminalStatus(host.baseUrl, originalId);
    await waitForRequestCount(target, 2);
    archiveBefore = requestsTo('/archive');
    billingBefore = requestsTo('/billing');

    const response = await postReplay(host.baseUrl, originalId, { reason: 'archive lost it', destinationIds: ['archive'] });
    replayId = response.body.messageId;
    // An attempt's request has reached the target before the orchestration completes.
    await waitForTerminalStatus(host.baseUrl, replayId);
  });

  it('delivers to the chosen destination', () => {
    expect(requestsTo('/archive')).toBe(archiveBefore + 1);
  });

  it('skips the other destinations', () => {
    expect(requestsTo('/billing')).toBe(billingBefore);
  });

  it('status lists only the chosen delivery', async () => {
    const status = await readOperatorStatus(host.baseUrl, replayId);

    expect(status.destinations.map((destination) => destination.destinationId)).toEqual(['archive']);
  });
});

describe('outcomes from the tracking store', () => {
  let deliveredId: string;
  let deadLetteredId: string;

  beforeAll(async () => {
    deliveredId = await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId: 'INV-20' }));
    await waitForTerminalStatus(host.baseUrl, deliveredId);
    billingRejects = true;
    deadLetteredId = await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId: 'INV-21' }));
    await waitForTerminalStatus(host.baseUrl, deadLetteredId);
    billingRejects = false;
  });

  it('list by outcome delivered', async () => {
    const listed = await listMessages(host.baseUrl, { outcome: 'delivered' });

    expect(listed.body.messages.map((message) => message.messageId)).toContain(deliveredId);
  });

  it('list by outcome deadLettered', async () => {
    const listed = await listMessages(host.baseUrl, { outcome: 'deadLettered' });

    expect(listed.body.messages.map((message) => message.messageId)).toEqual([deadLetteredId]);
  });

  it('bulk replay of dead letters delivers them again', async () => {
    const billingBefore = requestsTo('/billing');

    const started = await postBulkReplay(host.baseUrl, { filter: { connectorId: 'invoices', outcome: 'deadLettered' }, reason: 'billing fixed', destinationIds: ['billing'], requestsPerSecond: 10 });
    const finished = await waitForBulkReplay(host.baseUrl, started.body.replayId, (status) => status.state !== 'running');
    await waitForTerminalStatus(host.baseUrl, finished.newMessageIds[0]);

    expect(finished.replayed).toBe(1);
    expect(requestsTo('/billing')).toBe(billingBefore + 1);
    expect((await readOperatorStatus(host.baseUrl, finished.newMessageIds[0])).outcome).toBe('delivered');
  });
});
