import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, test } from 'vitest';
import { createEventPublisher, readEventGridTopicSettings } from '../../lib/events/createEventPublisher';
import type { EventPublisher } from '../../lib/events/lifecycleEvent';

const topicKey = 'settings-test-topic-key';

function createMemoryLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino(stream), lines };
}

function settingsReader(values: Record<string, string>): (name: string) => string | undefined {
  return (name) => values[name];
}

describe('Event Grid topic settings', () => {
  test('none set means no topic', () => {
    expect(readEventGridTopicSettings(settingsReader({}), createMemoryLogger().logger)).toBeUndefined();
  });

  test('both set give the topic', () => {
    const settings = readEventGridTopicSettings(
      settingsReader({ EVENT_GRID_TOPIC_ENDPOINT: 'https://topic.westeurope-1.eventgrid.azure.net/api/events', EVENT_GRID_TOPIC_KEY: topicKey }),
      createMemoryLogger().logger,
    );

    expect(settings).toEqual({ endpoint: 'https://topic.westeurope-1.eventgrid.azure.net/api/events', key: topicKey });
  });

  test('endpoint without key uses the identity', () => {
    const settings = readEventGridTopicSettings(settingsReader({ EVENT_GRID_TOPIC_ENDPOINT: 'https://topic.example/api/events' }), createMemoryLogger().logger);

    expect(settings).toEqual({ endpoint: 'https://topic.example/api/events' });
  });

  test('AZURE_CLIENT_ID selects the managed identity', () => {
    const settings = readEventGridTopicSettings(settingsReader({ EVENT_GRID_TOPIC_ENDPOINT: 'https://topic.example/api/events', AZURE_CLIENT_ID: 'client-1' }), createMemoryLogger().logger);

    expect(settings?.managedIdentityClientId).toBe('client-1');
  });

  test('http endpoint without key is rejected', () => {
    const { logger, lines } = createMemoryLogger();

    const settings = readEventGridTopicSettings(settingsReader({ EVENT_GRID_TOPIC_ENDPOINT: 'http://127.0.0.1:7071/runtime/webhooks/eventgrid/topic' }), logger);

    expect(settings).toBeUndefined();
    expect(JSON.parse(lines[0]).missingSetting).toBe('EVENT_GRID_TOPIC_KEY');
  });

  test('key without endpoint warns without the key', () => {
    const { logger, lines } = createMemoryLogger();

    readEventGridTopicSettings(settingsReader({ EVENT_GRID_TOPIC_KEY: topicKey }), logger);

    expect(JSON.parse(lines[0]).missingSetting).toBe('EVENT_GRID_TOPIC_ENDPOINT');
    expect(lines.join('')).not.toContain(topicKey);
  });

  test.each(['not a url', 'http://topic.example/api/events', 'ftp://127.0.0.1/api/events'])('endpoint %s is rejected', (endpoint) => {
    const { logger, lines } = createMemoryLogger();

    const settings = readEventGridTopicSettings(settingsReader({ EVENT_GRID_TOPIC_ENDPOINT: endpoint, EVENT_GRID_TOPIC_KEY: topicKey }), logger);

    expect(settings).toBeUndefined();
    expect(JSON.parse(lines[0]).level).toBe(40);
  });

  test('http endpoint on loopback is accepted', () => {
    const settings = readEventGridTopicSettings(
      settingsReader({ EVENT_GRID_TOPIC_ENDPOINT: 'http://127.0.0.1:7071/runtime/webhooks/eventgrid/topic', EVENT_GRID_TOPIC_KEY: topicKey }),
      createMemoryLogger().logger,
    );

    expect(settings?.endpoint).toBe('http://127.0.0.1:7071/runtime/webhooks/eventgrid/topic');
  });

  test('local host gives its own topic', () => {
    const settings = readEventGridTopicSettings(settingsReader({ WEBSITE_HOSTNAME: '127.0.0.1:7071', LOCAL_EVENT_GRID_TOPIC_KEY: topicKey }), createMemoryLogger().logger);

    expect(settings).toEqual({ endpoint: 'http://127.0.0.1:7071/runtime/webhooks/eventgrid/topic', key: topicKey });
  });

  test('none turns the local topic off', () => {
    const settings = readEventGridTopicSettings(
      settingsReader({ EVENT_GRID_TOPIC_ENDPOINT: 'none', WEBSITE_HOSTNAME: '127.0.0.1:7071', LOCAL_EVENT_GRID_TOPIC_KEY: topicKey }),
      createMemoryLogger().logger,
    );

    expect(settings).toBeUndefined();
  });

  test('Core Tools host name alone gives no topic', () => {
    expect(readEventGridTopicSettings(settingsReader({ WEBSITE_HOSTNAME: 'localhost:7071' }), createMemoryLogger().logger)).toBeUndefined();
  });

  test('Azure host name gives no local topic', () => {
    const settings = readEventGridTopicSettings(settingsReader({ WEBSITE_HOSTNAME: 'connector.azurewebsites.net', LOCAL_EVENT_GRID_TOPIC_KEY: topicKey }), createMemoryLogger().logger);

    expect(settings).toBeUndefined();
  });

  test('without settings the fallback publishes', () => {
    const fallback: EventPublisher = { publish: async () => undefined };

    expect(createEventPublisher(settingsReader({}), createMemoryLogger().logger, fallback)).toBe(fallback);
  });
});
