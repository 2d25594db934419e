import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseConnectors } from '../../lib/config/loadConnectors';
import { createConnectorLogger } from '../../lib/logger';
import { listSecretValues, SecretScrubber } from '../../lib/redaction/secretScrubber';
import { createTestDependencies, ordersConnector, testSecret, type TestDependencies } from './support/testDependencies';

function scrubberFor(...secrets: string[]): SecretScrubber {
  const scrubber = new SecretScrubber();
  scrubber.setSecrets(secrets);
  return scrubber;
}

describe('SecretScrubber', () => {
  test('replaces every occurrence', () => {
    expect(scrubberFor('s3cret').scrub('a s3cret and s3cret')).toBe('a [redacted] and [redacted]');
  });

  test('replaces the JSON-escaped form', () => {
    const secret = 'quote"and\\slash';

    expect(scrubberFor(secret).scrub(JSON.stringify({ value: secret }))).toBe('{"value":"[redacted]"}');
  });

  test('replaces the longer of overlapping secrets', () => {
    expect(scrubberFor('abc', 'abcdef').scrub('xabcdefx')).toBe('x[redacted]x');
  });

  test('ignores an empty secret', () => {
    expect(scrubberFor('').scrub('text')).toBe('text');
  });

  test('keeps text before secrets are set', () => {
    expect(new SecretScrubber().scrub('s3cret')).toBe('s3cret');
  });

  test('added secret is scrubbed with the configured ones', () => {
    const scrubber = scrubberFor('s3cret');

    scrubber.addSecrets(['access-token-1']);

    expect(scrubber.scrub('s3cret access-token-1')).toBe('[redacted] [redacted]');
  });

  test('added secret stays when configured ones are set again', () => {
    const scrubber = scrubberFor('s3cret');
    scrubber.addSecrets(['access-token-1']);

    scrubber.setSecrets(['other']);

    expect(scrubber.scrub('access-token-1')).toBe('[redacted]');
  });
});

describe('listSecretValues', () => {
  const webhooks = {
    ...ordersConnector(),
    id: 'webhooks',
    inbound: { auth: { type: 'standard-webhooks', secretRef: ['WEBHOOK_SECRET', 'NEXT_WEBHOOK_SECRET'] } },
  };
  const connectors = parseConnectors(JSON.stringify({ connectors: [ordersConnector(), webhooks] }), 'connectors.json');
  const settings: Record<string, string> = { ORDERS_HMAC_SECRET: 'hmac-value', WEBHOOK_SECRET: 'whsec_a2V5LWJ5dGVz' };

  test('lists each set secret of every connector', () => {
    expect(listSecretValues(connectors, (name) => settings[name])).toEqual(['hmac-value', 'whsec_a2V5LWJ5dGVz', 'a2V5LWJ5dGVz']);
  });

  test('lists the secrets of destinations', () => {
    const connector = ordersConnector();
    connector.destinations[0] = {
      ...connector.destinations[0],
      auth: { type: 'oauth2-client-credentials', tokenUrl: 'https://login.example.com/token', clientId: 'connector', secretRef: 'ERP_CLIENT_SECRET' },
      signing: { type: 'standard-webhooks', secretRef: 'ERP_SIGNING' },
      clientCertificate: { pfxRef: 'ERP_PFX', passphraseRef: 'ERP_PFX_PASSPHRASE' },
    };
    const destinationSettings: Record<string, string> = {
      ERP_CLIENT_SECRET: 'client-secret',
      ERP_SIGNING: 'whsec_c2lnbmluZw==',
      ERP_PFX: 'cGZ4LWJ5dGVz',
      ERP_PFX_PASSPHRASE: 'pfx-passphrase',
    };
    const withDestinationSecrets = parseConnectors(JSON.stringify({ connectors: [connector] }), 'connectors.json');

    expect(listSecretValues(withDestinationSecrets, (name) => destinationSettings[name])).toEqual([
      'client-secret',
      'whsec_c2lnbmluZw==',
      'c2lnbmluZw==',
      'cGZ4LWJ5dGVz',
      'pfx-passphrase',
    ]);
  });
});

describe('connector logger', () => {
  test('redacts a secret inside an error message', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createConnectorLogger(scrubberFor(testSecret), sink);

    logger.error({ error: `target replied: ${testSecret}`, connectorId: 'orders' }, 'delivery failed');

    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(testSecret);
    expect(JSON.parse(lines[0] ?? '{}').error).toBe('target replied: [redacted]');
  });

  test('keeps a line without secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createConnectorLogger(scrubberFor(testSecret), sink);

    logger.info({ connectorId: 'orders' }, 'connectors loaded');

    expect(JSON.parse(lines[0] ?? '{}').connectorId).toBe('orders');
  });
});

describe('audit scrubbing', () => {
  let dependencies: TestDependencies;

  beforeEach(() => {
    dependencies = createTestDependencies();
    dependencies.trackingStore.scrubAuditText = (text) => scrubberFor(testSecret).scrub(text);
  });

  afterEach(() => {
    dependencies.dispose();
  });

  test('audit detail shows redacted secret', async () => {
    await dependencies.trackingStore.appendAudit({
      messageId: 'orders-1',
      at: '2024-05-01T10:00:00.000Z',
      step: 'failed',
      detail: { error: `HTTP 500: echo ${testSecret}`, attempts: 3 },
    });

    const [entry] = await dependencies.trackingStore.listAudit('orders-1');
    expect(entry?.detail).toEqual({ error: 'HTTP 500: echo [redacted]', attempts: 3 });
  });
});
