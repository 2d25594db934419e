import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEventPublisher } from '../../../lib/events/createEventPublisher';
import { lifecycleEventId } from '../../../lib/events/eventGridPublisher';
import type { EventPublisher, LifecycleEvent } from '../../../lib/events/lifecycleEvent';
import type { AzureCredential } from '../../../lib/secrets/azureCredential';
import { createTestCertificates, type TestCertificates } from '../delivery/support/testCertificates';

/**
 * Publishes with a token credential, as the app does on Azure where the topic accepts no key,
 * to a loopback HTTPS server that implements the Event Grid publish API. The credential is a test
 * one with a fixed token, so nothing asks a real identity endpoint for a token.
 */

const testToken = 'identity-test-token-not-for-production';

interface PublishRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const deadLetteredEvent: LifecycleEvent = {
  type: 'message.deadlettered',
  messageId: 'orders-0123456789abcdef0123456789abcdef',
  connectorId: 'orders',
  time: '2026-12-04T12:00:00.000Z',
  data: { destinationId: 'erp', reason: 'maxAttempts (3) after 3 attempts', attempts: 3, statusCode: 500 },
};

const fixedTokenCredential: AzureCredential = {
  getToken: async () => ({ token: testToken, expiresOnTimestamp: Date.now() + 3_600_000 }),
};

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

/** Creates a publisher that keeps the events it receives, in place of the log publisher. */
function createRecordingFallback(): { publisher: EventPublisher; events: LifecycleEvent[] } {
  const events: LifecycleEvent[] = [];
  return { publisher: { publish: async (event) => void events.push(event) }, events };
}

describe('identity-based Event Grid publishing', () => {
  let certificates: TestCertificates;
  let server: https.Server;
  let origin: string;
  const requests: PublishRequest[] = [];

  beforeAll(async () => {
    certificates = createTestCertificates();
    server = https.createServer({ key: certificates.serverKey, cert: certificates.serverCertificate }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        // A topic that the identity may not publish to responds with 401, which the client does not retry.
        response.writeHead(request.url?.startsWith('/denied/') ? 401 : 200, { 'Content-Length': '0' });
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function publisherFor(endpoint: string, logger: pino.Logger, fallback: EventPublisher, credential = fixedTokenCredential): EventPublisher {
    const settings: Record<string, string> = { EVENT_GRID_TOPIC_ENDPOINT: endpoint };
    return createEventPublisher((name) => settings[name], logger, fallback, { credential, tlsOptions: { ca: certificates.caCertificate } });
  }

  async function publishOnce(): Promise<PublishRequest | undefined> {
    const before = requests.length;
    await publisherFor(`${origin}/api/events`, createMemoryLogger().logger, createRecordingFallback().publisher).publish(deadLetteredEvent);
    return requests[before];
  }

  test('request carries the bearer token', async () => {
    const request = await publishOnce();

    expect(request?.headers.authorization).toBe(`Bearer ${testToken}`);
  });

  test('request carries no topic key', async () => {
    const request = await publishOnce();

    expect(request?.headers['aeg-sas-key']).toBeUndefined();
  });

  test('request is a CloudEvents batch', async () => {
    const request = await publishOnce();

    expect(request?.method).toBe('POST');
    expect(request?.url.split('?')[0]).toBe('/api/events');
    expect(request?.headers['content-type']).toContain('application/cloudevents-batch+json');
  });

  test('request contains the event', async () => {
    const request = await publishOnce();
    const events = JSON.parse(request?.body ?? '[]') as Array<Record<string, unknown>>;

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      id: lifecycleEventId(deadLetteredEvent),
      type: 'message.deadlettered',
      source: '/connectors/orders',
      subject: 'messages/orders-0123456789abcdef0123456789abcdef',
      data: { messageId: deadLetteredEvent.messageId, connectorId: 'orders', destinationId: 'erp' },
    });
  });

  test('publish is logged as identity-based', () => {
    const { logger, lines } = createMemoryLogger();
    publisherFor(`${origin}/api/events`, logger, createRecordingFallback().publisher);

    const entry = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(entry.authentication).toBe('DefaultAzureCredential');
  });

  test('denied publish goes to the fallback', async () => {
    const fallback = createRecordingFallback();
    const { logger, lines } = createMemoryLogger();

    await publisherFor(`${origin}/denied/api/events`, logger, fallback.publisher).publish(deadLetteredEvent);

    expect(fallback.events).toEqual([deadLetteredEvent]);
    expect(lines.join('')).toContain('lifecycle event not published to Event Grid');
    expect(lines.join('')).not.toContain(testToken);
  });

  test('failed token request goes to the fallback', async () => {
    const fallback = createRecordingFallback();
    const failingCredential: AzureCredential = {
      getToken: async () => {
        throw new Error('no identity is available in this test');
      },
    };

    await expect(publisherFor(`${origin}/api/events`, createMemoryLogger().logger, fallback.publisher, failingCredential).publish(deadLetteredEvent)).resolves.toBeUndefined();
    expect(fallback.events).toHaveLength(1);
  });
});
