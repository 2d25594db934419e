import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { HostProcess } from '../helpers/hostProcess';
import { createTempFolder, removeTempFolders, startConnectorHost, writeConnectorsFile } from './support';

/** The connector's own `GET /api/health` on the local host, which replaces the host's built-in one. */

/** Maximum time the probe may take on the local host; Front Door probes time out after some seconds. */
const maxProbeTimeInMilliseconds = 2000;

let host: HostProcess;

beforeAll(async () => {
  const folder = createTempFolder('e2e-health-');
  const connectorsFile = writeConnectorsFile(folder, 'http://127.0.0.1:9', [{ id: 'invoices', destinations: [{ id: 'billing', path: '/billing' }] }]);
  host = await startConnectorHost(connectorsFile, path.join(folder, 'data'));
});

afterAll(async () => {
  await host?.stop();
  removeTempFolders();
});

test('app health route answers ok', async () => {
  const response = await fetch(`${host.baseUrl}/api/health`);

  expect(response.status).toBe(200);
  // The host's built-in route responds with {"status":"ready"}, so "ok" shows that the app's route ran.
  expect(await response.json()).toEqual({ status: 'ok' });
});

test('health needs no key', async () => {
  const response = await fetch(`${host.baseUrl}/api/health`);

  expect(response.status).not.toBe(401);
});

test('health answers quickly', async () => {
  const startedAt = Date.now();
  await (await fetch(`${host.baseUrl}/api/health`)).text();

  expect(Date.now() - startedAt).toBeLessThan(maxProbeTimeInMilliseconds);
});
