import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { repoRoot, startHostProcess, type HostProcess } from '../helpers/hostProcess';
import { waitForRecords } from '../helpers/recordFile';
import { startTargetServer, type TargetServer } from '../helpers/targetServer';
import { postReplay } from './operatorSupport';
import { createTempFolder, jsonBytes, removeTempFolders, sendMessage, startConnectorHost, waitForTerminalStatus, writeConnectorsFile } from './support';

/**
 * The connector publishes lifecycle events to an Event Grid topic: here the topic of a second
 * local host that runs the Event Grid fixture app, whose functions record each event they get.
 */

const topicKey = 'e2e-event-grid-topic-key';

let target: TargetServer;
let topicHost: HostProcess;
let host: HostProcess;
let recordFile: string;

beforeAll(async () => {
  target = await startTargetServer();
  const folder = createTempFolder('e2e-lifecycle-events-');
  recordFile = path.join(folder, 'records.jsonl');
  topicHost = await startHostProcess({
    appRoot: path.join(repoRoot, 'test', 'fixtures', 'triggersApp'),
    dataDir: path.join(folder, 'topic-data'),
    env: { LOCAL_FUNCTION_KEY: topicKey, FIXTURE_RECORD_FILE: recordFile, FIXTURE_TIMER_SCHEDULE: undefined },
  });
  const connectorsFile = writeConnectorsFile(folder, target.url, [{ id: 'invoices', destinations: [{ id: 'billing', path: '/billing' }] }]);
  host = await startConnectorHost(connectorsFile, path.join(folder, 'data'), {
    EVENT_GRID_TOPIC_ENDPOINT: `${topicHost.baseUrl}/runtime/webhooks/eventgrid/topic`,
    EVENT_GRID_TOPIC_KEY: topicKey,
  });
});

afterAll(async () => {
  await host?.stop();
  await topicHost?.stop();
  await target?.close();
  removeTempFolders();
});

it('replay publishes message.replayed to the topic', async () => {
  const originalId = await sendMessage(host.baseUrl, 'invoices', jsonBytes({ invoiceId: 'INV-1' }));
  await waitForTerminalStatus(host.baseUrl, originalId);
  const requestsBeforeReplay = target.requests.length;

  const replay = await postReplay(host.baseUrl, originalId, { reason: 'billing lost it' });
  const records = await waitForRecords(recordFile, (all) => all.some((record) => record.event?.type === 'message.replayed'), 5000);
  const event = records.find((record) => record.functionName === 'recordEventA' && record.event?.type === 'message.replayed')?.event;

  expect(replay.status).toBe(202);
  expect(requestsBeforeReplay).toBe(1);
  expect(event).toMatchObject({
    specversion: '1.0',
    source: '/connectors/invoices',
    subject: `messages/${originalId}`,
    data: { replayMessageId: replay.body.messageId, operator: 'local-operator', reason: 'billing lost it' },
  });
});

it('connector log names the topic host and never the key', () => {
  const topicEntry = host.logEntries().find((entry) => entry.msg === 'lifecycle events go to the Event Grid topic');

  expect(topicEntry?.topicHost).toBe(new URL(topicHost.baseUrl).host);
  expect(host.stdout()).not.toContain(topicKey);
  expect(host.stderr()).not.toContain(topicKey);
});
