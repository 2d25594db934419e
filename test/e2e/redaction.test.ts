import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryInstanceId, rawBlobNameOf } from '../../lib/ids';
import { quarantineBlobNameOf } from '../../lib/quarantine/quarantineIds';
import type { HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import {
  type ConnectorOptions,
  createTempFolder,
  functionKey,
  jsonBytes,
  postMessage,
  readHostPayload,
  removeTempFolders,
  sendMessage,
  startConnectorHost,
  waitForTerminalStatus,
  writeConnectorsFile,
} from './support';

/**
 * Runs the connector app on the local host with connectors that redact `/customer/email`. The
 * stored and delivered bytes keep the e-mail address. The 422 response, the quarantine entry,
 * the message status, the audit trail and the host log show `[redacted]` instead.
 */

const email = 'ada.lovelace@example.com';
const redactedPointers = ['/customer/email'];

const connectorOptions: ConnectorOptions[] = [
  { id: 'customers', entity: { type: 'customer', key: 'customer.email' }, destinations: [{ id: 'crm', path: '/customers' }] },
  {
    id: 'versioned',
    entity: { type: 'customer', key: 'customer.email', version: 'revision' },
    destinations: [{ id: 'crm', path: '/versioned' }],
  },
  {
    id: 'rejecting',
    transform: "$error('customer ' & customer.email & ' is blocked')",
    destinations: [{ id: 'crm', path: '/rejecting' }],
  },
  { id: 'strict', destinations: [{ id: 'crm', path: '/strict' }] },
];

/** Requires an e-mail address and a name of at most three characters. */
const strictSchema = {
  type: 'object',
  required: ['customer'],
  properties: {
    customer: {
      type: 'object',
      properties: { email: { type: 'string', format: 'email' }, name: { type: 'string', maxLength: 3 } },
    },
  },
};

let target: TargetServer;
let host: HostProcess;
let dataDir: string;

beforeAll(async () => {
  target = await startTargetServer();
  const folder = createTempFolder('e2e-redaction-');
  dataDir = path.join(folder, 'data');
  const connectorsFile = writeConnectorsFile(folder, target.url, connectorOptions);
  const file = JSON.parse(fs.readFileSync(connectorsFile, 'utf8')) as { connectors: Array<Record<string, any>> };
  for (const connector of file.connectors) {
    connector.redact = redactedPointers;
    if (connector.id === 'strict') {
      connector.inbound.schema = strictSchema;
    }
  }
  fs.writeFileSync(connectorsFile, JSON.stringify(file, null, 2));
  host = await startConnectorHost(connectorsFile, dataDir);
});

afterAll(async () => {
  await host?.stop();
  await target?.close();
  removeTempFolders();
});

async function readStatusText(messageId: string): Promise<string> {
  const response = await fetch(`${host.baseUrl}/api/messages/${messageId}`, { headers: { 'x-functions-key': functionKey } });
  expect(response.status).toBe(200);
  return response.text();
}

async function readStoredRaw(connectorId: string, messageId: string): Promise<string> {
  const stored = await readHostPayload(dataDir, rawBlobNameOf(connectorId, messageId));
  return Buffer.from(stored?.bytes ?? []).toString('utf8');
}

describe('redacted payload values', () => {
  it('hides an entity key but delivers it', async () => {
    const body = jsonBytes({ customer: { email, name: 'Ada' } });
    const messageId = await sendMessage(host.baseUrl, 'customers', body);

    const status = await waitForTerminalStatus(host.baseUrl, messageId);
    expect(status.outcome).toBe('delivered');
    expect(status.entityKey).toBe('[redacted]');

    const statusText = await readStatusText(messageId);
    expect(statusText).not.toContain(email);
    const entityRead = status.audit.find((entry) => entry.step === 'entityRead');
    expect(entityRead?.detail).toMatchObject({ entityKey: '[redacted]' });

    expect(await readStoredRaw('customers', messageId)).toContain(email);
    const delivery = target.requests.find((request) => request.headers['idempotency-key'] === createDeliveryInstanceId(messageId, 'crm'));
    expect(delivery?.body.toString('utf8')).toBe(body.toString('utf8'));
    expect(host.stdout() + host.stderr()).not.toContain(email);
  });

  it('keeps a versioned entity key out of host logs', async () => {
    const messageId = await sendMessage(host.baseUrl, 'versioned', jsonBytes({ customer: { email }, revision: 1 }));

    const status = await waitForTerminalStatus(host.baseUrl, messageId);

    expect(status.outcome).toBe('delivered');
    expect(host.stdout() + host.stderr()).toContain('"entity batch finished"');
    expect(host.stdout() + host.stderr()).not.toContain(email);
  });

  it('hides a value quoted by a failed transform', async () => {
    const messageId = await sendMessage(host.baseUrl, 'rejecting', jsonBytes({ customer: { email } }));

    const status = await waitForTerminalStatus(host.baseUrl, messageId);
    expect(status.outcome).toBe('deadLettered');
    expect(JSON.stringify(status.failure)).toContain('customer [redacted] is blocked');

    const failed = status.audit.find((entry) => entry.step === 'failed');
    expect(JSON.stringify(failed?.detail)).toContain('customer [redacted] is blocked');
    expect(await readStatusText(messageId)).not.toContain(email);

    const logs = host.stdout() + host.stderr();
    expect(logs).toContain('customer [redacted] is blocked');
    expect(logs).not.toContain(email);
    expect(await readStoredRaw('rejecting', messageId)).toContain(email);
  });

  it('keeps schema errors free of values', async () => {
    const invalidEmail = 'not-an-address-ada';
    const body = jsonBytes({ customer: { email: invalidEmail, name: 'Augusta' } });

    const response = await postMessage(host.baseUrl, 'strict', body);
    const problemText = await response.text();
    expect(response.status).toBe(422);
    expect(problemText).not.toContain(invalidEmail);
    const problem = JSON.parse(problemText) as { errors: Array<{ pointer: string; message: string }>; quarantineId: string };
    expect(problem.errors.map((error) => error.pointer).sort()).toEqual(['/customer/email', '/customer/name']);

    const quarantineResponse = await fetch(`${host.baseUrl}/api/quarantine/${problem.quarantineId}`, { headers: { 'x-functions-key': functionKey } });
    const quarantineText = await quarantineResponse.text();
    expect(quarantineResponse.status).toBe(200);
    expect(quarantineText).toContain('/customer/email');
    expect(quarantineText).not.toContain(invalidEmail);

    const stored = await readHostPayload(dataDir, quarantineBlobNameOf('strict', problem.quarantineId));
    expect(Buffer.from(stored?.bytes ?? []).equals(body)).toBe(true);
    expect(host.stdout() + host.stderr()).not.toContain(invalidEmail);
  });
});
