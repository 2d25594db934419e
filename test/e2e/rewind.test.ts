import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeliveryInstanceId } from '../../lib/ids';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import {
  createTempFolder,
  functionKey,
  jsonBytes,
  removeTempFolders,
  sendMessage,
  startConnectorHost,
  waitForTerminalStatus,
  writeConnectorsFile,
} from './support';

/**
 * Rewinds a dead-lettered message through the Durable Functions management API. Failed attempts
 * are results in the history, not failed tasks, so a rewind replays the same dead letter and
 * makes no new attempt. An operator replay, a new message, delivers it again.
 */

let target: TargetServer;
let host: HostProcess;

beforeAll(async () => {
  target = await startTargetServer();
  target.plan('/billing', () => 503);
  const folder = createTempFolder('e2e-rewind-');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    { id: 'invoices', destinations: [{ id: 'billing', path: '/billing', maxAttempts: 2 }] },
  ]);
  host = await startConnectorHost(connectorsFile, path.join(folder, 'data'));
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

it('rewind of a dead letter makes no new attempt', async () => {
  const messageId = await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId: 'INV-7' }));
  const failed = await waitForTerminalStatus(host.baseUrl, messageId);
  expect(failed.runtimeStatus).toBe('Failed');
  expect(target.requests).toHaveLength(2);

  const rewind = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${messageId}/rewind?reason=target%20recovered`, {
    method: 'POST',
    headers: { 'x-functions-key': functionKey },
  });
  expect(rewind.status).toBe(202);

  // The rewound instance runs again within milliseconds; an attempt would follow 50 ms later.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const status = await waitForTerminalStatus(host.baseUrl, messageId);
  expect(status.runtimeStatus).toBe('Failed');
  expect(target.requests).toHaveLength(2);
  expect(target.requests[1].headers['idempotency-key']).toBe(createDeliveryInstanceId(messageId, 'billing'));
});
