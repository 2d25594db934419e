import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import { readDelivery, readMessageRow, startScriptedTarget, waitFor, type ScriptedTarget } from './deliverySupport';
import type { ProcessMessageInput, ReplayOrigin } from '../../lib/contracts';
import {
  createTempFolder,
  functionKey,
  jsonBytes,
  readManagementApi,
  readStatus,
  removeTempFolders,
  sendMessage,
  startConnectorHost,
  terminalRuntimeStatuses,
  waitForTerminalStatus,
  writeConnectorsFile,
  type MessageStatus,
} from './support';

/**
 * Fans messages out to several destinations with filters and their own transforms, and delivers
 * versions of several entities concurrently to a `fifoPerEntity` destination.
 */

const fifoKeys = ['A', 'B', 'C'];
const fifoVersionsPerKey = 4;
const fifoTargetDelayInMilliseconds = 40;

let target: ScriptedTarget;
let host: HostProcess;
let dataDir: string;
let inFlightByKey = new Map<string, number>();
let maxInFlightPerKey = 0;

beforeAll(async () => {
  target = await startScriptedTarget();
  target.answer('/fifo', (request) => {
    const key = (JSON.parse(request.body) as { key: string }).key;
    const inFlight = (inFlightByKey.get(key) ?? 0) + 1;
    inFlightByKey.set(key, inFlight);
    maxInFlightPerKey = Math.max(maxInFlightPerKey, inFlight);
    setTimeout(() => inFlightByKey.set(key, (inFlightByKey.get(key) ?? 1) - 1), fifoTargetDelayInMilliseconds);
    return { status: 200, delayInMilliseconds: fifoTargetDelayInMilliseconds };
  });

  target.answer('/fifo-retry', (request) => {
    const body = JSON.parse(request.body) as { key: string; seq: number };
    const earlierAttempts = target.requestsTo('/fifo-retry').filter((earlier) => earlier.body === request.body).length - 1;
    return { status: body.key === 'X' && body.seq === 1 && earlierAttempts < 3 ? 503 : 200 };
  });

  const folder = createTempFolder('e2e-fan-out-');
  dataDir = path.join(folder, 'data');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    {
      id: 'orders',
      transform: "{ 'id': orderId }",
      destinations: [
        { id: 'ledger', path: '/ledger' },
        { id: 'large', path: '/large', filter: 'amount > 100', transform: "{ 'ref': orderId, 'amount': amount }" },
      ],
    },
    { id: 'rare', destinations: [{ id: 'audit', path: '/audit', filter: "kind = 'rare'" }] },
    {
      id: 'fifo',
      entity: { type: 'item', key: 'key', version: 'seq' },
      destinations: [{ id: 'store', path: '/fifo', ordering: 'fifoPerEntity', timeoutInMilliseconds: 5000 }],
    },
    {
      id: 'fifo-retry',
      entity: { type: 'item', key: 'key', version: 'seq' },
      destinations: [
        {
          id: 'store',
          path: '/fifo-retry',
          ordering: 'fifoPerEntity',
          maxAttempts: 5,
          retry: { jitter: 'none', firstIntervalInMilliseconds: 500, maxIntervalInMilliseconds: 500 },
        },
      ],
    },
  ]);
  host = await startConnectorHost(connectorsFile, dataDir);
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

describe('filters and destination transforms', () => {
  test('falsy filter skips its destination', async () => {
    const messageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'O-1', amount: 50 }));
    const status = await waitForTerminalStatus(host.baseUrl, messageId);

    expect(status.runtimeStatus).toBe('Completed');
    expect(readDelivery(dataDir, messageId, 'large')?.outcome).toBe('filtered');
    expect(readDelivery(dataDir, messageId, 'ledger')?.outcome).toBe('delivered');
    expect(readMessageRow(dataDir, messageId)?.outcome).toBe('delivered');
    expect(target.requestsTo('/large')).toHaveLength(0);
  });

  test('each destination gets its own transform', async () => {
    const messageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'O-2', amount: 500 }));
    await waitForTerminalStatus(host.baseUrl, messageId);

    expect(JSON.parse(target.requestsTo('/large')[0].body)).toEqual({ ref: 'O-2', amount: 500 });
    expect(JSON.parse(target.requestsTo('/ledger').at(-1)?.body ?? '')).toEqual({ id: 'O-2' });
    expect(readDelivery(dataDir, messageId, 'large')?.payload_blob_name).toBe(`transformed/orders/${messageId}/large`);
  });

  test('message is filtered when every filter is falsy', async () => {
    const messageId = await sendMessage(host.baseUrl, 'rare', jsonBytes({ kind: 'common' }));
    const status = await waitForTerminalStatus(host.baseUrl, messageId);

    expect(status.runtimeStatus).toBe('Completed');
    expect(readMessageRow(dataDir, messageId)?.outcome).toBe('filtered');
    expect(target.requestsTo('/audit')).toHaveLength(0);
  });
});

/** Returns the delivery queue that the status shows for the first destination. */
function queueOf(status: MessageStatus): unknown {
  return (status.destinations[0] as { queue?: unknown }).queue;
}

describe('fifoPerEntity', () => {
  test('delivers each key in version order, one at a time', async () => {
    const bodies = fifoKeys.flatMap((key) => Array.from({ length: fifoVersionsPerKey }, (_, index) => ({ key, seq: index + 1 })));

    const messageIds = await Promise.all(bodies.map((body) => sendMessage(host.baseUrl, 'fifo', jsonBytes(body))));
    const statuses = await Promise.all(messageIds.map((messageId) => waitForTerminalStatus(host.baseUrl, messageId, 30_000)));

    const delivered = target.requestsTo('/fifo').map((request) => JSON.parse(request.body) as { key: string; seq: number });
    const outcomes = messageIds.map((messageId) => readMessageRow(dataDir, messageId)?.outcome);
    expect(statuses.every((status) => status.runtimeStatus === 'Completed')).toBe(true);
    expect(delivered).toHaveLength(outcomes.filter((outcome) => outcome === 'delivered').length);
    expect(maxInFlightPerKey).toBe(1);
    for (const key of fifoKeys) {
      const versions = delivered.filter((body) => body.key === key).map((body) => body.seq);
      expect(versions, `versions of key ${key}`).toEqual([...versions].sort((a, b) => a - b));
      expect(versions.at(-1), `last version of key ${key}`).toBe(fifoVersionsPerKey);
    }
  });

  test('retrying head blocks only its own key', async () => {
    const first = await sendMessage(host.baseUrl, 'fifo-retry', jsonBytes({ key: 'X', seq: 1 }));
    await waitFor('the first attempt of X1', () => (target.requestsTo('/fifo-retry').length > 0 ? true : undefined));
    const others = await Promise.all([
      sendMessage(host.baseUrl, 'fifo-retry', jsonBytes({ key: 'X', seq: 2 })),
      sendMessage(host.baseUrl, 'fifo-retry', jsonBytes({ key: 'Y', seq: 1 })),
    ]);
    const waiting = await waitFor('X2 to wait behind X1', () => {
      const delivery = readDelivery(dataDir, others[0], 'store');
      return delivery?.reason?.startsWith('waiting behind') === true ? delivery : undefined;
    });
    // X1 fails three times 500 ms apart, so it is still the retrying head here.
    const headQueue = queueOf(await readStatus(host.baseUrl, first));
    const waiterQueue = queueOf(await readStatus(host.baseUrl, others[0]));
    await Promise.all([first, ...others].map((messageId) => waitForTerminalStatus(host.baseUrl, messageId)));

    expect(headQueue).toEqual({ headMessageId: first, position: 0, waitingBehind: [others[0]] });
    expect(waiterQueue).toEqual({ headMessageId: first, position: 1, waitingBehind: [] });

    expect(waiting.reason).toBe(`waiting behind message ${first}`);
    expect(waiting.outcome).toBe('pending');

    const order = target
      .requestsTo('/fifo-retry')
      .map((request) => JSON.parse(request.body) as { key: string; seq: number })
      .map((body) => `${body.key}${body.seq}`);
    expect(order.filter((item) => item === 'X1')).toHaveLength(4);
    expect(order.indexOf('Y1')).toBeLessThan(order.lastIndexOf('X1'));
    expect(order.indexOf('X2')).toBeGreaterThan(order.lastIndexOf('X1'));
  });

  test('empty queues keep no state', async () => {
    const queues = await readManagementApi<Array<{ state: unknown }>>(host.baseUrl, 'entities/deliveryQueue?fetchState=true');

    expect(queues.map((queue) => queue.state)).toEqual([...fifoKeys, 'X', 'Y'].map(() => null));
  });
});

describe('operator replay', () => {
  let originalMessageId: string;
  let originalInput: ProcessMessageInput;

  beforeAll(async () => {
    originalMessageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'O-9', amount: 900 }));
    await waitForTerminalStatus(host.baseUrl, originalMessageId);
    const instance = await readManagementApi<{ input: ProcessMessageInput }>(host.baseUrl, `instances/${originalMessageId}?showInput=true`);
    originalInput = instance.input;
  });

  /** Starts processMessage for a replay, as the operator API does, and waits for it to end. */
  async function replay(replayMessageId: string, origin: Omit<ReplayOrigin, 'originalMessageId' | 'reason' | 'operator'>): Promise<string | null> {
    const input: ProcessMessageInput = { ...originalInput, messageId: replayMessageId, replay: { originalMessageId, reason: 'test', operator: 'alice', ...origin } };
    const response = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/orchestrators/processMessage/${replayMessageId}`, {
      method: 'POST',
      headers: { 'x-functions-key': functionKey, 'content-type': 'application/json' },
      body: JSON.stringify(input),
    });
    expect(response.status).toBe(202);

    // The operator API creates the replay's message row; without it the instance status is read directly.
    const instance = await waitFor(`replay ${replayMessageId} to end`, async () => {
      const statusResponse = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${replayMessageId}`, { headers: { 'x-functions-key': functionKey } });
      const status = (await statusResponse.json()) as { runtimeStatus: string };
      return terminalRuntimeStatuses.includes(status.runtimeStatus) ? status : undefined;
    });
    return instance.runtimeStatus;
  }

  test('replay delivers the original payload to the chosen destination', async () => {
    const ledgerRequestsBefore = target.requestsTo('/ledger').length;
    const replayMessageId = 'orders-00000000000000000000000000000001';

    const runtimeStatus = await replay(replayMessageId, { destinationIds: ['large'], retransform: false });

    expect(runtimeStatus).toBe('Completed');
    expect(target.requestsTo('/ledger')).toHaveLength(ledgerRequestsBefore);
    expect(target.requestsTo('/large').at(-1)?.body).toBe(JSON.stringify({ ref: 'O-9', amount: 900 }));
    expect(readDelivery(dataDir, replayMessageId, 'large')?.payload_blob_name).toBe(`transformed/orders/${originalMessageId}/large`);
  });

  test('replay with retransform stores a new payload', async () => {
    const replayMessageId = 'orders-00000000000000000000000000000002';

    const runtimeStatus = await replay(replayMessageId, { retransform: true });

    expect(runtimeStatus).toBe('Completed');
    expect(readDelivery(dataDir, replayMessageId, 'ledger')?.payload_blob_name).toBe(`transformed/orders/${replayMessageId}`);
    expect(readDelivery(dataDir, replayMessageId, 'large')?.payload_blob_name).toBe(`transformed/orders/${replayMessageId}/large`);
  });

  test('replay without a stored payload dead-letters that destination', async () => {
    const filteredMessageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'O-10', amount: 10 }));
    await waitForTerminalStatus(host.baseUrl, filteredMessageId);
    originalMessageId = filteredMessageId;
    const replayMessageId = 'orders-00000000000000000000000000000003';

    const runtimeStatus = await replay(replayMessageId, { destinationIds: ['large'], retransform: false });

    expect(runtimeStatus).toBe('Failed');
    expect(readDelivery(dataDir, replayMessageId, 'large')?.outcome).toBe('deadLettered');
    expect(readDelivery(dataDir, replayMessageId, 'large')?.reason).toContain('Replay with retransform set to true');
  });
});
