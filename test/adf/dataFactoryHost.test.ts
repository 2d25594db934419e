import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rawBlobNameOf, transformedBlobNameOf } from '../../lib/ids';
import type { PayloadStore } from '../../lib/payloadStore/PayloadStore';
import { dataFactorySettingNames } from '../../lib/transform/dataFactory/dataFactorySettings';
import { repoRoot, runHostUntilExit, type HostProcess } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import { createTestCertificates } from '../unit/delivery/support/testCertificates';
import {
  connectorSecret,
  connectorSecretName,
  createTempFolder,
  dedupKeyHeader,
  jsonBytes,
  openHostPayloadStore,
  readStatus,
  removeTempFolders,
  sendMessage,
  signatureHeader,
  startConnectorHost,
  waitForTerminalStatus,
} from '../e2e/support';
import { describeRun, startFakeDataFactory, type FakeDataFactory, type FakeRun } from './support/fakeDataFactory';

/**
 * Runs the connector app on the local host with connectors whose transform runs on Data Factory.
 * The Data Factory is a loopback HTTPS fake whose pipelines read the raw payload from the host's
 * file payload store and write the output blob there, as a real pipeline would in Blob storage.
 */

const testToken = 'host-test-token-not-for-production';
const pipelineMessage = "Operation on target MapOrders failed: column 'status' was not found.";
const statusTimeoutInMilliseconds = 30_000;

let fake: FakeDataFactory;
let target: TargetServer;
let host: HostProcess;
let folder: string;
let dataDir: string;
let payloadStore: PayloadStore;

interface ReadStatus {
  outcome: string;
  outcomeReason: string | null;
  runtimeStatus: string | null;
  audit: Array<{ step: string; detail: Record<string, unknown> }>;
}

/** Transforms like the `transform-orders` pipeline: InProgress on the first read, then it writes the output and succeeds. */
async function runOrdersPipeline(run: FakeRun): Promise<Record<string, unknown>> {
  if (run.reads === 1) {
    return describeRun(run, 'InProgress', '');
  }
  const input = await payloadStore.get(run.parameters.inputBlobName);
  const order = JSON.parse((input?.bytes ?? Buffer.from('{}')).toString('utf8')) as Record<string, unknown>;
  const output = { id: order.orderId, state: order.status, transformedBy: 'data-factory' };
  await payloadStore.put(run.parameters.outputBlobName, jsonBytes(output), { contentType: 'application/json' });
  return describeRun(run, 'Succeeded', '');
}

function adfConnector(id: string, transform: Record<string, unknown>): Record<string, unknown> {
  return {
    id,
    inbound: { auth: { type: 'hmac-sha256', header: signatureHeader, secretRef: connectorSecretName } },
    dedupKey: { header: dedupKeyHeader },
    transform: { type: 'adf', pollIntervalInSeconds: 1, ...transform },
    destinations: [
      {
        id: 'erp',
        url: `${target.url}/${id}`,
        allowedPrivateRanges: ['127.0.0.0/8'],
        retry: { maxAttempts: 2, firstIntervalInMilliseconds: 50, maxIntervalInMilliseconds: 50 },
      },
    ],
  };
}

function writeConnectorsFile(connectors: unknown[]): string {
  const file = path.join(folder, 'connectors.json');
  fs.writeFileSync(file, JSON.stringify({ connectors }, null, 2));
  return file;
}

beforeAll(async () => {
  const certificates = createTestCertificates();
  folder = createTempFolder('adf-host-');
  dataDir = path.join(folder, 'data');
  payloadStore = openHostPayloadStore(dataDir);
  const caFile = path.join(folder, 'data-factory-ca.pem');
  fs.writeFileSync(caFile, certificates.caCertificate);

  fake = await startFakeDataFactory(
    { certificate: certificates.serverCertificate, key: certificates.serverKey },
    {
      readRun: async (run) => {
        if (run.pipelineName === 'transform-orders') {
          return { status: 200, body: await runOrdersPipeline(run) };
        }
        if (run.pipelineName === 'failing-pipeline') {
          return { status: 200, body: describeRun(run, 'Failed', pipelineMessage) };
        }
        return { status: 200, body: describeRun(run, 'InProgress', '') };
      },
    },
  );
  target = await startTargetServer();

  const connectorsFile = writeConnectorsFile([
    adfConnector('orders', { pipelineName: 'transform-orders' }),
    adfConnector('failing', { pipelineName: 'failing-pipeline' }),
    adfConnector('endless', { pipelineName: 'endless-pipeline', timeoutInMinutes: 0.05 }),
  ]);
  host = await startConnectorHost(connectorsFile, dataDir, {
    [dataFactorySettingNames.subscriptionId]: 'sub-1',
    [dataFactorySettingNames.resourceGroup]: 'rg-connector',
    [dataFactorySettingNames.factoryName]: 'adf-connector',
    [dataFactorySettingNames.endpoint]: fake.endpoint,
    [dataFactorySettingNames.caCertificateFile]: caFile,
    [dataFactorySettingNames.testToken]: testToken,
  });
}, 60_000);

afterAll(async () => {
  await host?.stop();
  await fake?.close();
  await target?.close();
  removeTempFolders();
});

describe('adf transform on the local host', () => {
  test('delivers the pipeline output', async () => {
    const messageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'A-1', status: 'shipped' }));

    const status = await waitForTerminalStatus(host.baseUrl, messageId, statusTimeoutInMilliseconds);

    expect(status.runtimeStatus).toBe('Completed');
    const delivered = target.requests.find((request) => request.path === '/orders');
    expect(JSON.parse(delivered?.body.toString('utf8') ?? 'null')).toEqual({ id: 'A-1', state: 'shipped', transformedBy: 'data-factory' });
  });

  test('passes blob names as parameters', async () => {
    const messageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'A-2', status: 'packed' }));
    await waitForTerminalStatus(host.baseUrl, messageId, statusTimeoutInMilliseconds);

    const run = [...fake.runs.values()].find((started) => started.parameters.messageId === messageId);
    expect(run?.parameters).toEqual({ inputBlobName: rawBlobNameOf('orders', messageId), outputBlobName: transformedBlobNameOf('orders', messageId), messageId });
  });

  test('audits the run id', async () => {
    const messageId = await sendMessage(host.baseUrl, 'orders', jsonBytes({ orderId: 'A-3', status: 'packed' }));
    await waitForTerminalStatus(host.baseUrl, messageId, statusTimeoutInMilliseconds);

    const status = (await readStatus(host.baseUrl, messageId)) as unknown as ReadStatus;
    const started = status.audit.find((entry) => entry.step === 'transformStarted');
    const run = [...fake.runs.values()].find((startedRun) => startedRun.parameters.messageId === messageId);
    expect(started?.detail.runId).toBe(run?.runId);
    expect(status.audit.some((entry) => entry.step === 'transformed')).toBe(true);
  });

  test('failed run dead-letters the message', async () => {
    const messageId = await sendMessage(host.baseUrl, 'failing', jsonBytes({ orderId: 'B-1', status: 'shipped' }));

    await waitForTerminalStatus(host.baseUrl, messageId, statusTimeoutInMilliseconds);

    const status = (await readStatus(host.baseUrl, messageId)) as unknown as ReadStatus;
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.outcome).toBe('deadLettered');
    expect(status.outcomeReason).toContain(`ended Failed: ${pipelineMessage}`);
    expect(target.requests.some((request) => request.path === '/failing')).toBe(false);
  });

  test('endless run times out', async () => {
    const messageId = await sendMessage(host.baseUrl, 'endless', jsonBytes({ orderId: 'C-1', status: 'shipped' }));

    await waitForTerminalStatus(host.baseUrl, messageId, statusTimeoutInMilliseconds);

    const status = (await readStatus(host.baseUrl, messageId)) as unknown as ReadStatus;
    expect(status.outcome).toBe('deadLettered');
    expect(status.outcomeReason).toContain('did not finish within the timeout of 0.05 minutes');
  });

  test('host logs never show the token', () => {
    expect(`${host.stdout()}\n${host.stderr()}`).not.toContain(testToken);
  });
});

describe('adf connector without settings', () => {
  test('host stops at start-up', async () => {
    const startFolder = createTempFolder('adf-host-unset-');
    const file = path.join(startFolder, 'connectors.json');
    fs.writeFileSync(file, JSON.stringify({ connectors: [{ ...adfConnector('orders', { pipelineName: 'transform-orders' }) }] }));

    const result = await runHostUntilExit({
      appRoot: repoRoot,
      dataDir: path.join(startFolder, 'data'),
      env: { CONNECTORS_FILE: file, [connectorSecretName]: connectorSecret, LOCAL_FUNCTION_KEY: 'unset-key' },
    });

    expect(result.code).not.toBe(0);
    expect(`${result.stdout}\n${result.stderr}`).toContain('Connector orders has a Data Factory transform ("type": "adf"), but Data Factory settings are missing');
  });
});
