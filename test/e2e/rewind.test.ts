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
 * Rewinds a message whose delivery failed on its last attempt, through the Durable Functions
 * management API, after the target has recovered.
 */

let target: TargetServer;
let host: HostProcess;
let targetIsDown = true;

beforeAll(async () => {
  target = await startTargetServer();
  target.plan('/billing', () => (targetIsDown ? 503 : 200));
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

it('rewind after failed delivery makes one new attempt', async () => {
  const messageId = await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId: 'INV-7' }));
  const failed = await waitForTerminalStatus(host.baseUrl, messageId);
  expect(failed.outcome).toBe('failed');
  expect(target.requests).toHaveLength(2);

  targetIsDown = false;
  const rewind = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${messageId}/rewind?reason=target%20recovered`, {
    method: 'POST',
    headers: { 'x-functions-key': functionKey },
  });
  expect(rewind.status).toBe(202);

  const status = await waitForTerminalStatus(host.baseUrl, messageId);
  expect(status.runtimeStatus).toBe('Completed');
  expect(status.outcome).toBe('delivered');
  expect(target.requests).toHaveLength(3);
  expect(target.requests[2].headers['idempotency-key']).toBe(createDeliveryInstanceId(messageId, 'billing'));
});
