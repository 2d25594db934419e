import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import {
  cancelBulkReplay,
  listMessages,
  postBulkReplay,
  readBulkReplay,
  readOperatorStatus,
  waitForBulkReplay,
  waitForRequestCount,
  type BulkReplayStatus,
} from './operatorSupport';
import { createTempFolder, jsonBytes, removeTempFolders, sendMessage, startConnectorHost, waitForTerminalStatus, writeConnectorsFile } from './support';

/**
 * Bulk replays by connector: a dry run, a replay paced by its rate to completion, and a
 * cancelled replay. Each connector delivers to its own path, so the target's requests per path
 * count the deliveries of one test.
 */

let target: TargetServer;
let host: HostProcess;

beforeAll(async () => {
  target = await startTargetServer();
  const folder = createTempFolder('e2e-bulk-replay-');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    { id: 'invoices', destinations: [{ id: 'billing', path: '/billing' }] },
    { id: 'refunds', destinations: [{ id: 'ledger', path: '/ledger' }] },
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

/** Sends `count` messages to a connector and waits until each is processed. Returns their ids in sending order. */
async function sendProcessedMessages(connectorId: string, count: number): Promise<string[]> {
  const messageIds: string[] = [];
  for (let index = 0; index < count; index++) {
    messageIds.push(await sendMessage(host.baseUrl, connectorId, jsonBytes({ connectorId, index })));
  }
  for (const messageId of messageIds) {
    await waitForTerminalStatus(host.baseUrl, messageId);
  }
  return messageIds;
}

describe('bulk replay of one connector', () => {
  const messageCount = 6;
  const requestsPerSecond = 3;
  let originalIds: string[];
  let dryRun: Record<string, any>;
  let requestsAfterDryRun: number;
  let finished: BulkReplayStatus;
  let replayReceivedTimes: number[];

  beforeAll(async () => {
    originalIds = await sendProcessedMessages('invoices', messageCount);
    await waitForRequestCount(target, messageCount);

    dryRun = (await postBulkReplay(host.baseUrl, { filter: { connectorId: 'invoices' }, reason: 'check', dryRun: true })).body;
    requestsAfterDryRun = requestsTo('/billing');

    const started = await postBulkReplay(host.baseUrl, { filter: { connectorId: 'invoices' }, reason: 'billing restored', requestsPerSecond });
    if (started.status !== 202) {
      throw new Error(`Bulk replay responded with ${started.status}: ${JSON.stringify(started.body)}`);
    }
    // The finished state and its audit entry are two writes, so the wait covers both.
    const isFinished = (status: BulkReplayStatus): boolean => status.state !== 'running' && status.audit.some((entry) => entry.step !== 'bulkReplayStarted');
    finished = await waitForBulkReplay(host.baseUrl, started.body.replayId, isFinished);
    for (const messageId of finished.newMessageIds) {
      await waitForTerminalStatus(host.baseUrl, messageId);
    }
    await waitForRequestCount(target, messageCount * 2);
    const statuses = await Promise.all(finished.newMessageIds.map((messageId) => readOperatorStatus(host.baseUrl, messageId)));
    replayReceivedTimes = statuses.map((status) => Date.parse(status.receivedAt)).sort((first, second) => first - second);
  });

  it('dry run counts the matching messages', () => {
    expect(dryRun.total).toBe(messageCount);
    expect(dryRun.messageIds).toEqual(originalIds);
  });

  it('dry run delivers nothing', () => {
    expect(requestsAfterDryRun).toBe(messageCount);
  });

  it('bulk replay completes every message', () => {
    expect(finished.state).toBe('completed');
    expect(finished.total).toBe(messageCount);
    expect(finished.replayed).toBe(messageCount);
    expect(finished.failed).toBe(0);
    expect(finished.newMessageIds).toHaveLength(messageCount);
  });

  it('target receives each message once more', () => {
    expect(requestsTo('/billing')).toBe(messageCount * 2);
  });

  it('replays keep to the rate', () => {
    // Pages of 3 start 1 s apart, so the first and the last of 6 replays are about 1 s apart.
    const spreadInMilliseconds = replayReceivedTimes[replayReceivedTimes.length - 1] - replayReceivedTimes[0];

    expect(spreadInMilliseconds).toBeGreaterThanOrEqual(900);
    expect(spreadInMilliseconds).toBeLessThan(5000);
  });

  it('replays it created are not replayed again', async () => {
    const listed = await listMessages(host.baseUrl, { connectorId: 'invoices' });

    expect(listed.body.messages).toHaveLength(messageCount * 2);
  });

  it('audit names the operator', () => {
    expect(finished.operator).toBe('local-operator');
    expect(finished.audit.map((entry) => entry.step)).toEqual(['bulkReplayStarted', 'bulkReplayCompleted']);
  });
});

describe('cancelled bulk replay', () => {
  const messageCount = 8;
  let replayedAtCancel: number;
  let cancelStatus: number;
  let cancelled: BulkReplayStatus;
  let secondCancelStatus: number;

  beforeAll(async () => {
    await sendProcessedMessages('refunds', messageCount);
    await waitForRequestCount(target, requestsTo('/billing') + messageCount);

    const started = await postBulkReplay(host.baseUrl, { filter: { connectorId: 'refunds' }, reason: 'ledger restored', requestsPerSecond: 1 });
    const replayId = started.body.replayId as string;
    const firstPage = await waitForBulkReplay(host.baseUrl, replayId, (status) => status.replayed >= 1);
    replayedAtCancel = firstPage.replayed;
    cancelStatus = (await cancelBulkReplay(host.baseUrl, replayId, 'wrong filter')).status;

    // One page interval and a half, so a page that would still start would show.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    cancelled = await readBulkReplay(host.baseUrl, replayId);
    for (const messageId of cancelled.newMessageIds) {
      await waitForTerminalStatus(host.baseUrl, messageId);
    }
    secondCancelStatus = (await cancelBulkReplay(host.baseUrl, replayId, 'again')).status;
  });

  it('cancel is accepted', () => {
    expect(cancelStatus).toBe(200);
    expect(cancelled.state).toBe('cancelled');
  });

  it('cancel stops further pages', () => {
    // A page that had started when the cancel arrived may still finish.
    expect(cancelled.replayed).toBeLessThanOrEqual(replayedAtCancel + 1);
    expect(cancelled.replayed).toBeLessThan(messageCount);
  });

  it('target receives only the replays made', () => {
    expect(requestsTo('/ledger')).toBe(messageCount + cancelled.replayed);
  });

  it('cancelling again is 409', () => {
    expect(secondCancelStatus).toBe(409);
  });

  it('audit records the cancel with the operator', () => {
    const entry = cancelled.audit.find((auditEntry) => auditEntry.step === 'bulkReplayCancelled');

    expect(entry?.detail).toEqual({ operator: 'local-operator', reason: 'wrong filter' });
  });
});
