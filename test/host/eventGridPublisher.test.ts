import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventGridPublisher, lifecycleEventId, maxEventsPerPublish } from '../../lib/events/eventGridPublisher';
import type { LifecycleEvent } from '../../lib/events/lifecycleEvent';
import { repoRoot, startHostProcess, type HostProcess } from '../helpers/hostProcess';
import { waitForRecords, type FixtureRecord } from '../helpers/recordFile';

/**
 * Publishes lifecycle events with the Event Grid adapter to the local host's topic, and reads
 * what the fixture app's Event Grid functions received.
 */

const appRoot = path.join(repoRoot, 'test', 'fixtures', 'triggersApp');
const topicKey = 'publisher-test-topic-key';

function replayedEvent(key: string): LifecycleEvent {
  return {
    type: 'message.replayed',
    messageId: 'orders-0123456789abcdef0123456789abcdef',
    connectorId: 'orders',
    time: '2026-12-04T12:00:00.000Z',
    key,
    data: { replayMessageId: key, operator: 'ops@example.com', reason: 'target fixed' },
  };
}

/** A logger that keeps its lines in memory. */
function createMemoryLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('Event Grid publisher', () => {
  let host: HostProcess;
  let folder: string;
  let recordFile: string;
  let topicUrl: string;

  function recordsOf(eventId: string, records: FixtureRecord[]): FixtureRecord[] {
    return records.filter((record) => record.functionName === 'recordEventA' && record.event?.id === eventId);
  }

  beforeAll(async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'event-grid-publisher-'));
    recordFile = path.join(folder, 'records.jsonl');
    host = await startHostProcess({
      appRoot,
      dataDir: path.join(folder, 'data'),
      env: { LOCAL_FUNCTION_KEY: topicKey, FIXTURE_RECORD_FILE: recordFile, FIXTURE_TIMER_SCHEDULE: undefined },
    });
    topicUrl = `${host.baseUrl}/runtime/webhooks/eventgrid/topic`;
  });

  afterAll(async () => {
    await host?.stop();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('function receives the CloudEvent', async () => {
    const event = replayedEvent('orders-11111111111111111111111111111111');
    const publisher = createEventGridPublisher({ endpoint: topicUrl, key: topicKey }, createMemoryLogger().logger);

    await publisher.publish(event);
    const records = await waitForRecords(recordFile, (all) => recordsOf(lifecycleEventId(event), all).length === 1, 5000);

    expect(recordsOf(lifecycleEventId(event), records)[0].event).toEqual({
      specversion: '1.0',
      id: lifecycleEventId(event),
      type: 'message.replayed',
      source: '/connectors/orders',
      subject: 'messages/orders-0123456789abcdef0123456789abcdef',
      time: '2026-12-04T12:00:00.000Z',
      datacontenttype: 'application/json',
      data: {
        messageId: 'orders-0123456789abcdef0123456789abcdef',
        connectorId: 'orders',
        replayMessageId: 'orders-11111111111111111111111111111111',
        operator: 'ops@example.com',
        reason: 'target fixed',
      },
    });
  });

  it('same event is published with the same id', async () => {
    const event = replayedEvent('orders-22222222222222222222222222222222');
    const publisher = createEventGridPublisher({ endpoint: topicUrl, key: topicKey }, createMemoryLogger().logger);

    await publisher.publish(event);
    await publisher.publish({ ...event, time: '2026-12-04T12:00:05.000Z' });
    const records = await waitForRecords(recordFile, (all) => recordsOf(lifecycleEventId(event), all).length === 2, 5000);

    expect(recordsOf(lifecycleEventId(event), records)).toHaveLength(2);
  });

  it('event ids differ by key', () => {
    expect(lifecycleEventId(replayedEvent('orders-33333333333333333333333333333333'))).not.toBe(lifecycleEventId(replayedEvent('orders-44444444444444444444444444444444')));
  });

  it('rejected publish is logged without the key', async () => {
    const wrongKey = 'wrong-topic-key-must-not-be-logged';
    const { logger, lines } = createMemoryLogger();
    const publisher = createEventGridPublisher({ endpoint: topicUrl, key: wrongKey }, logger);

    await expect(publisher.publish(replayedEvent('orders-55555555555555555555555555555555'))).resolves.toBeUndefined();

    const warning = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg === 'lifecycle event not published to Event Grid');
    expect(warning?.eventType).toBe('message.replayed');
    expect(lines.join('')).not.toContain(wrongKey);
  });

  it('events of one turn share one request', async () => {
    const requests: unknown[][] = [];
    const topic = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[]);
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => topic.listen(0, '127.0.0.1', resolve));
    const { port } = topic.address() as net.AddressInfo;
    const publisher = createEventGridPublisher({ endpoint: `http://127.0.0.1:${port}/api/events`, key: topicKey }, createMemoryLogger().logger);
    const keys = Array.from({ length: maxEventsPerPublish + 5 }, (_unused, index) => `orders-${String(index).padStart(32, '0')}`);

    try {
      await Promise.all(keys.map((key) => publisher.publish(replayedEvent(key))));
    } finally {
      await new Promise<void>((resolve) => topic.close(() => resolve()));
    }

    expect(requests.map((events) => events.length)).toEqual([maxEventsPerPublish, 5]);
    expect(requests.flat().map((event) => (event as { id: string }).id)).toEqual(keys.map((key) => lifecycleEventId(replayedEvent(key))));
  });

  it('unreachable topic does not throw', async () => {
    const { logger, lines } = createMemoryLogger();
    // A port that was just free, so the connection is refused.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const publisher = createEventGridPublisher({ endpoint: `http://127.0.0.1:${port}/api/events`, key: topicKey }, logger);

    await expect(publisher.publish(replayedEvent('orders-66666666666666666666666666666666'))).resolves.toBeUndefined();
    expect(lines.join('')).toContain('lifecycle event not published to Event Grid');
  });
});
