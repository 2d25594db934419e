import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import { startScriptedTarget, type ScriptedTarget } from './deliverySupport';
import { createTempFolder, functionKey, jsonBytes, removeTempFolders, sendMessage, startConnectorHost, waitForTerminalStatus, writeConnectorsFile } from './support';

/**
 * Without Event Grid settings, the connector on the local host publishes its lifecycle events to
 * that host's own topic, which delivers them to the onLifecycleEvent trigger. A dead letter
 * becomes the trigger's error-level alert line in the host log.
 */

const alertWaitInMilliseconds = 5000;
const pollIntervalInMilliseconds = 50;

let target: ScriptedTarget;
let host: HostProcess;

beforeAll(async () => {
  target = await startScriptedTarget();
  target.answer('/rejecting', () => ({ status: 400 }));
  const folder = createTempFolder('e2e-dead-letter-alert-');
  const connectorsFile = writeConnectorsFile(folder, target.url, [
    { id: 'invoices', destinations: [{ id: 'billing', path: '/rejecting' }] },
    { id: 'orders', entity: { type: 'order', key: 'orderId' }, destinations: [{ id: 'erp', path: '/rejecting' }] },
  ]);
  host = await startConnectorHost(connectorsFile, path.join(folder, 'data'));
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

/** Polls the host log until it has the alert line of `messageId`, for at most `alertWaitInMilliseconds`. */
async function waitForAlert(messageId: string): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + alertWaitInMilliseconds;
  for (;;) {
    const alert = host.logEntries().find((entry) => entry.msg === 'dead-letter alert' && entry.messageId === messageId);
    if (alert !== undefined || Date.now() > deadline) {
      return alert;
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalInMilliseconds));
  }
}

test('dead letter reaches the alert trigger', async () => {
  const messageId = await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId: 'INV-9' }));
  await waitForTerminalStatus(host.baseUrl, messageId);

  const alert = await waitForAlert(messageId);

  expect(alert?.level).toBe('error');
  expect(alert?.connectorId).toBe('invoices');
  expect(alert?.destinationId).toBe('billing');
  expect(String(alert?.reason)).toContain('HTTP 400');
});

test('failure before delivery reaches the alert trigger', async () => {
  const messageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ status: 'shipped' }));
  await waitForTerminalStatus(host.baseUrl, messageId);

  const alert = await waitForAlert(messageId);

  expect(alert?.level).toBe('error');
  expect(alert?.connectorId).toBe('orders');
  expect(alert?.destinationId).toBeNull();
  expect(String(alert?.reason)).toContain('orderId');
});

test('events go to the host topic', () => {
  const topicEntry = host.logEntries().find((entry) => entry.msg === 'lifecycle events go to the Event Grid topic');

  expect(topicEntry?.topicHost).toBe(new URL(host.baseUrl).host);
});

test('topic events are delivered, not logged', () => {
  const delivered = host.logEntries().filter((entry) => entry.msg === 'Event Grid events delivered');
  const fallbackLines = host.logEntries().filter((entry) => entry.msg === 'lifecycle event');

  expect(delivered.length).toBeGreaterThan(0);
  expect(fallbackLines).toEqual([]);
});

test('host key stays out of the log', () => {
  expect(host.stdout()).not.toContain(functionKey);
  expect(host.stderr()).not.toContain(functionKey);
});
