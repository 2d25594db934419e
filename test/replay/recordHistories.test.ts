/**
 * Records the orchestration histories in test/fixtures/histories by running the connector app
 * on the local host, as a user starts it, against a loopback target API. The histories in
 * test/fixtures/histories/earlier were recorded by earlier orchestrator code and are never rewritten. It is a vitest file so
 * that it runs without a TypeScript runner, and it is skipped unless RECORD_HISTORIES=1:
 *
 *   npm run build
 *   RECORD_HISTORIES=1 npx vitest run test/replay/recordHistories.test.ts
 *
 * Each fixture contains the orchestrator name, the instance input, the task ids that the engine
 * reserved for retries and the history in the PascalCase form that `durable-functions` reads,
 * taken from the engine's SQLite database. Instance ids and payloads are the same on every
 * recording. Timestamps (also `receivedAt` in the input), delivery durations, entity request
 * ids and line numbers in stack traces change, so a new recording changes those lines. The
 * absolute path of this checkout in stack traces becomes `<repo>`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDeliveryInstanceId } from '../../lib/ids';
import type { HostProcess } from '../helpers/hostProcess';
import { repoRoot } from '../helpers/hostProcess';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import {
  createTempFolder,
  jsonBytes,
  removeTempFolders,
  sendMessage,
  startConnectorHost,
  waitForTerminalStatus,
  writeConnectorsFile,
  type ConnectorOptions,
  type MessageStatus,
} from '../e2e/support';
import { fixturesFolder, type HistoryFixture } from './historyFixtures';

const isRecording = process.env.RECORD_HISTORIES === '1';

const entity = { type: 'order', key: 'orderId', version: 'updatedAt' };
const transform = "{ 'id': orderId, 'state': status, 'updatedAt': updatedAt }";
const destinationId = 'erp';

/** One connector per case, so each case's destination path gets its own status plan on the target. */
const connectors: ConnectorOptions[] = [
  { id: 'success', entity, transform, destinations: [{ id: destinationId, path: '/ok' }] },
  { id: 'retry', entity, transform, destinations: [{ id: destinationId, path: '/flaky', maxAttempts: 3 }] },
  { id: 'stale', entity, transform, destinations: [{ id: destinationId, path: '/ok' }] },
  { id: 'failure', entity, transform, destinations: [{ id: destinationId, path: '/broken', maxAttempts: 3 }] },
  {
    id: 'circuit',
    entity,
    transform,
    destinations: [
      { id: destinationId, path: '/recovering', maxAttempts: 1, retry: { jitter: 'none' }, circuitBreaker: { failureThreshold: 1, coolDownInMilliseconds: 300 } },
    ],
  },
  // No entity, so recordMessage prepares the payload and no transformPayload activity runs.
  { id: 'plain', transform, destinations: [{ id: destinationId, path: '/ok' }] },
];

let target: TargetServer;
let host: HostProcess | undefined;
let dataDir: string;
const statuses = new Map<string, MessageStatus>();

function order(orderId: string, updatedAt: string): Buffer {
  return jsonBytes({ orderId, status: 'shipped', updatedAt });
}

/** Sends a message with a fixed dedup key, so its message id is the same on every recording. */
async function deliver(connectorId: string, dedupKey: string, body: Buffer): Promise<MessageStatus> {
  const messageId = await sendMessage(host!.baseUrl, connectorId, body, dedupKey);
  return waitForTerminalStatus(host!.baseUrl, messageId);
}

interface InstanceRow {
  name: string;
  runtime_status: string;
  input: string | null;
  parent_instance_id: string | null;
  engine_state: string;
}

/** Reads one instance and its history from the engine's database and returns it as a fixture. */
function readFixture(db: Database.Database, caseName: string, instanceId: string, description: string): HistoryFixture {
  const row = db
    .prepare<[string], InstanceRow>('SELECT name, runtime_status, input, parent_instance_id, engine_state FROM instances WHERE instance_id = ?')
    .get(instanceId);
  if (row === undefined) {
    throw new Error(`Instance ${instanceId} of case "${caseName}" is not in the durable database. Check the host's output for a failed start.`);
  }
  const history = db
    .prepare<[string], { event: string }>('SELECT event FROM history WHERE instance_id = ? ORDER BY position')
    .all(instanceId)
    .map((historyRow) => JSON.parse(historyRow.event) as Record<string, unknown>);
  const engineState = JSON.parse(row.engine_state) as { reservedTaskIds?: number[] };

  return {
    description,
    caseName,
    orchestratorName: row.name,
    instanceId,
    parentInstanceId: row.parent_instance_id ?? undefined,
    runtimeStatus: row.runtime_status,
    input: row.input === null ? null : JSON.parse(row.input),
    reservedTaskIds: engineState.reservedTaskIds ?? [],
    history: history as HistoryFixture['history'],
  };
}

/** Writes the fixture as pretty-printed JSON, with this checkout's path replaced by `<repo>`. */
function writeFixture(fixture: HistoryFixture): void {
  const text = JSON.stringify(fixture, null, 2).split(repoRoot).join('<repo>');
  const file = path.join(fixturesFolder, `${fixture.orchestratorName}.${fixture.caseName}.json`);
  fs.writeFileSync(file, `${text}\n`);
}

describe.skipIf(!isRecording)('record orchestration histories', () => {
  beforeAll(async () => {
    target = await startTargetServer();
    target.plan('/ok', () => 200);
    target.plan('/flaky', (_request, index) => (index === 0 ? 503 : 200));
    target.plan('/broken', () => 500);
    target.plan('/recovering', (_request, index) => (index === 0 ? 500 : 200));

    const folder = createTempFolder('record-histories-');
    dataDir = path.join(folder, 'data');
    host = await startConnectorHost(writeConnectorsFile(folder, target.url, connectors), dataDir);

    statuses.set('success', await deliver('success', 'fixture-success', order('ORD-1', '2024-05-01T10:00:00Z')));
    statuses.set('retry', await deliver('retry', 'fixture-retry', order('ORD-2', '2024-05-01T10:00:00Z')));
    await deliver('stale', 'fixture-stale-newer', order('ORD-3', '2024-05-02T10:00:00Z'));
    statuses.set('stale', await deliver('stale', 'fixture-stale', order('ORD-3', '2024-05-01T10:00:00Z')));
    statuses.set('failure', await deliver('failure', 'fixture-failure', order('ORD-4', '2024-05-01T10:00:00Z')));
    // The first message opens the breaker of its destination, so the second waits for the cool-down.
    await deliver('circuit', 'fixture-circuit-opener', order('ORD-5', '2024-05-01T10:00:00Z'));
    statuses.set('circuitOpen', await deliver('circuit', 'fixture-circuit-open', order('ORD-6', '2024-05-01T10:00:00Z')));
    statuses.set('withoutEntity', await deliver('plain', 'fixture-without-entity', order('ORD-7', '2024-05-01T10:00:00Z')));

    // The host closes the database on a graceful stop, so every committed episode is in the file.
    await host.stop();
    host = undefined;
  });

  afterAll(async () => {
    await host?.stop();
    await target?.close();
    removeTempFolders();
  });

  test('records the six cases', () => {
    // A case that did not end as intended must not overwrite its fixture.
    expect(statuses.get('success')?.outcome).toBe('delivered');
    expect(statuses.get('retry')?.outcome).toBe('delivered');
    expect(statuses.get('retry')?.destinations[0]?.attempts).toHaveLength(2);
    expect(statuses.get('stale')?.outcome).toBe('stale');
    expect(statuses.get('failure')?.outcome).toBe('deadLettered');
    expect(statuses.get('failure')?.destinations[0]?.attempts).toHaveLength(3);
    expect(statuses.get('circuitOpen')?.outcome).toBe('delivered');
    expect(statuses.get('circuitOpen')?.destinations[0]?.attempts).toHaveLength(1);
    expect(statuses.get('withoutEntity')?.outcome).toBe('delivered');
    expect(statuses.get('withoutEntity')?.destinations[0]?.attempts).toHaveLength(1);

    const descriptions: Record<string, string> = {
      success: 'The destination answers 200 on the first attempt.',
      retry: 'The destination answers 503, then 200 on the second attempt.',
      stale: 'A newer version of the same order was accepted before, so this message is stale and not delivered.',
      failure: 'The destination answers 500 on all three attempts, so the delivery is dead-lettered and the message fails.',
      circuitOpen: 'An earlier failure opened the destination\'s circuit breaker, so the delivery waits for the cool-down, then its probe attempt succeeds.',
      withoutEntity: 'The connector tracks no entity, so recordMessage prepares the payload, and the destination answers 200 on the first attempt.',
    };
    const db = new Database(path.join(dataDir, 'durable.db'), { readonly: true, fileMustExist: true });
    try {
      fs.mkdirSync(fixturesFolder, { recursive: true });
      for (const [caseName, status] of statuses) {
        writeFixture(readFixture(db, caseName, status.messageId, descriptions[caseName]));
        if (caseName !== 'stale') {
          const deliveryInstanceId = createDeliveryInstanceId(status.messageId, destinationId);
          writeFixture(readFixture(db, caseName, deliveryInstanceId, descriptions[caseName]));
        }
      }
    } finally {
      db.close();
    }
  });
});
