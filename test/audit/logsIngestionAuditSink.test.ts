import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../lib/audit/auditSink';
import { forwardAuditEntries } from '../../lib/audit/forwardAuditEntries';
import { LogsIngestionAuditSink, type LogsIngestionAuditSinkOptions } from '../../lib/audit/logsIngestionAuditSink';
import { SecretScrubber } from '../../lib/redaction/secretScrubber';
import { openTrackingStore, type TrackingStore } from '../../lib/tracking/trackingStore';
import { createTestCertificates, type TestCertificates } from '../unit/delivery/support/testCertificates';
import { createFixedTokenCredential, createNeverResolvingCredential, testAccessToken } from '../secrets/support/testCredential';
import { startLogsIngestionServer, type LogsIngestionServer } from './support/logsIngestionServer';

const ruleId = 'dcr-00112233445566778899aabbccddeeff';
const streamName = 'Custom-ConnectorAudit_CL';
const partnerSecret = 'partner-secret-never-uploaded-6a2f';

let certificates: TestCertificates;
let server: LogsIngestionServer;
const openSinks: LogsIngestionAuditSink[] = [];

beforeAll(async () => {
  certificates = createTestCertificates();
  server = await startLogsIngestionServer(certificates);
});

afterAll(async () => {
  await server.close();
});

afterEach(async () => {
  await Promise.all(openSinks.splice(0).map((sink) => sink.close()));
  server.failNextUploads(0);
  server.requests.length = 0;
});

function createSink(options: Partial<LogsIngestionAuditSinkOptions> & { endpoint?: string; logLines?: string[] } = {}): LogsIngestionAuditSink {
  const logLines = options.logLines ?? [];
  const sink = new LogsIngestionAuditSink({
    settings: { endpoint: options.endpoint ?? server.endpoint, ruleId, streamName },
    credential: createFixedTokenCredential(),
    logger: pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) }),
    flushIntervalInMilliseconds: 60_000,
    retryDelayInMilliseconds: 10,
    clientOptions: { tlsOptions: { ca: certificates.caCertificate } },
    ...options,
  });
  openSinks.push(sink);
  return sink;
}

function auditRecord(step: string, detail: Record<string, unknown> = { statusCode: 200 }): AuditRecord {
  return { messageId: 'orders-0123456789abcdef', step, key: 'erp', time: '2024-05-01T10:00:00.000Z', detail: JSON.stringify(detail) };
}

describe('Logs Ingestion upload', () => {
  it('posts to the rule stream', async () => {
    const sink = createSink();

    sink.add(auditRecord('delivered'));
    await sink.flush();

    expect(server.requests[0].path).toBe(`/dataCollectionRules/${ruleId}/streams/${streamName}`);
    expect(server.requests[0].apiVersion).toBe('2023-01-01');
  });

  it('body is gzip', async () => {
    const sink = createSink();

    sink.add(auditRecord('delivered'));
    await sink.flush();

    expect(server.requests[0].contentEncoding).toBe('gzip');
  });

  it('sends the bearer token', async () => {
    const sink = createSink();

    sink.add(auditRecord('delivered'));
    await sink.flush();

    expect(server.requests[0].authorization).toBe(`Bearer ${testAccessToken}`);
  });

  it('rows carry every field', async () => {
    const sink = createSink();

    sink.add(auditRecord('delivered', { statusCode: 200, attempts: 2 }));
    await sink.flush();

    expect(server.acceptedRows()).toEqual([
      { TimeGenerated: '2024-05-01T10:00:00.000Z', MessageId: 'orders-0123456789abcdef', Step: 'delivered', Key: 'erp', Detail: '{"statusCode":200,"attempts":2}' },
    ]);
  });

  it('queued entries go in one upload', async () => {
    const sink = createSink();

    sink.add(auditRecord('received'));
    sink.add(auditRecord('transformed'));
    sink.add(auditRecord('delivered'));
    await sink.flush();

    expect(server.requests).toHaveLength(1);
    expect(server.acceptedRows().map((row) => row.Step)).toEqual(['received', 'transformed', 'delivered']);
  });

  it('full batch flushes without waiting', async () => {
    const sink = createSink({ maxBatchEntries: 2 });

    sink.add(auditRecord('received'));
    sink.add(auditRecord('delivered'));
    await server.waitForRequests(1);

    expect(server.acceptedRows()).toHaveLength(2);
  });

  it('timer flushes a partial batch', async () => {
    const sink = createSink({ flushIntervalInMilliseconds: 50 });

    sink.add(auditRecord('received'));
    await server.waitForRequests(1);

    expect(server.acceptedRows()).toHaveLength(1);
  });

  it('large queue splits into batches', async () => {
    const sink = createSink({ maxBatchEntries: 3 });

    for (let index = 0; index < 7; index++) {
      sink.add(auditRecord(`step-${index}`));
    }
    await sink.close();

    expect(server.acceptedRows()).toHaveLength(7);
  });
});

describe('Logs Ingestion failures', () => {
  it('500 then 204 retries once', async () => {
    const sink = createSink();
    server.failNextUploads(1);

    sink.add(auditRecord('delivered'));
    await sink.flush();

    expect(server.requests.map((request) => request.status)).toEqual([500, 204]);
    expect(server.acceptedRows()).toHaveLength(1);
  });

  it('gives up after max attempts', async () => {
    const logLines: string[] = [];
    const sink = createSink({ maxUploadAttempts: 3, logLines });
    server.failNextUploads(100);

    sink.add(auditRecord('delivered'));
    await sink.flush();

    expect(server.requests).toHaveLength(3);
    expect(logLines.some((line) => line.includes('audit upload to Log Analytics failed, so these entries stay only in the tracking store'))).toBe(true);
  });

  it('failed upload warning names the status', async () => {
    const logLines: string[] = [];
    const sink = createSink({ maxUploadAttempts: 1, logLines });
    server.failNextUploads(1);

    sink.add(auditRecord('delivered'));
    await sink.flush();

    const warning = JSON.parse(logLines.find((line) => line.includes('"level":40')) ?? '{}') as { error?: string; streamName?: string };
    expect(warning.error).toContain('The test server was told to fail this upload.');
    expect(warning.streamName).toBe(streamName);
  });

  it('hung credential times out', async () => {
    const sink = createSink({ credential: createNeverResolvingCredential(), uploadTimeoutInMilliseconds: 100, maxUploadAttempts: 2 });
    const startedAt = performance.now();

    sink.add(auditRecord('delivered'));
    await sink.flush();

    expect(performance.now() - startedAt).toBeLessThan(2000);
  });

  it('full queue drops new entries', async () => {
    const logLines: string[] = [];
    const sink = createSink({ maxQueuedEntries: 2, logLines });

    sink.add(auditRecord('received'));
    sink.add(auditRecord('transformed'));
    sink.add(auditRecord('delivered'));
    await sink.flush();

    expect(server.acceptedRows().map((row) => row.Step)).toEqual(['received', 'transformed']);
    expect(logLines.some((line) => line.includes('"droppedEntries":1'))).toBe(true);
  });
});

describe('tracking store forwarding', () => {
  let dataDir: string;
  let trackingStore: TrackingStore;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'connector-audit-'));
  });

  afterEach(() => {
    trackingStore?.close();
  });

  afterAll(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function openStore(sink: LogsIngestionAuditSink): TrackingStore {
    trackingStore = openTrackingStore(fs.mkdtempSync(path.join(dataDir, 'store-')));
    const scrubber = new SecretScrubber();
    scrubber.setSecrets([partnerSecret]);
    trackingStore.scrubAuditText = (text) => scrubber.scrub(text);
    forwardAuditEntries(trackingStore, sink, pino({ level: 'silent' }));
    return trackingStore;
  }

  const entry = { messageId: 'orders-1', at: '2024-05-01T10:00:00.000Z', step: 'delivered', key: 'erp', detail: { statusCode: 401, response: `bad key ${partnerSecret}` } };

  it('uploaded detail matches stored detail', async () => {
    const sink = createSink();
    const store = openStore(sink);

    await store.appendAudit(entry);
    await sink.flush();

    expect(JSON.parse(String(server.acceptedRows()[0].Detail))).toEqual((await store.listAudit('orders-1'))[0].detail);
  });

  it('uploaded body never contains a secret', async () => {
    const sink = createSink();
    const store = openStore(sink);

    await store.appendAudit(entry);
    await sink.flush();

    expect(server.requests[0].body).not.toContain(partnerSecret);
    expect(server.requests[0].body).toContain('[redacted]');
  });

  it('repeated entry is uploaded once', async () => {
    const sink = createSink();
    const store = openStore(sink);

    await store.appendAudit(entry);
    await store.appendAudit(entry);
    await sink.flush();

    expect(server.acceptedRows()).toHaveLength(1);
  });

  it('unreachable endpoint keeps audit writes', async () => {
    const closedPort = await findClosedPort();
    const sink = createSink({ endpoint: `https://127.0.0.1:${closedPort}`, maxUploadAttempts: 2 });
    const store = openStore(sink);

    const added = await store.appendAudit(entry);
    await sink.flush();

    expect(added).toBe(true);
    expect(await store.listAudit('orders-1')).toHaveLength(1);
  });
});

/** Returns a port on 127.0.0.1 that nothing listens on, by opening a server and closing it again. */
async function findClosedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
