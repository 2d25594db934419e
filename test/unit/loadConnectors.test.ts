import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConnectors, parseConnectors } from '../../lib/config/loadConnectors';
import { ConfigurationError } from '../../lib/errors';

function validConnector(): Record<string, any> {
  return {
    id: 'orders',
    inbound: { auth: { type: 'hmac-sha256', header: 'X-Signature', secretRef: 'ORDERS_HMAC_SECRET' }, maxBodyBytes: 1048576 },
    dedupKey: { header: 'webhook-id' },
    entity: { type: 'order', key: 'orderId', version: 'updatedAt' },
    transform: { type: 'jsonata', expression: "{ 'id': orderId, 'state': status }" },
    destinations: [
      {
        id: 'erp',
        url: 'http://127.0.0.1:9000/orders',
        method: 'POST',
        timeoutInMilliseconds: 5000,
        allowedPrivateRanges: ['127.0.0.0/8'],
        retry: { maxAttempts: 3, firstIntervalInMilliseconds: 100, backoffCoefficient: 2 },
      },
    ],
  };
}

function parse(connectors: unknown[]): ReturnType<typeof parseConnectors> {
  return parseConnectors(JSON.stringify({ connectors }), 'connectors.json');
}

function messageOf(connectors: unknown[]): string {
  try {
    parse(connectors);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigurationError');
}

describe('parseConnectors', () => {
  test('loads the documented example', () => {
    const connectors = parse([validConnector()]);

    expect(connectors.list).toHaveLength(1);
    expect(connectors.byId.get('orders')?.destinations[0].url).toBe('http://127.0.0.1:9000/orders');
  });

  test('compiles the expressions', async () => {
    const connector = parse([validConnector()]).byId.get('orders')!;

    const transformed = await connector.expressions.transform!.evaluate({ orderId: '1', status: 'paid' });

    expect(transformed).toEqual({ id: '1', state: 'paid' });
  });

  test('fills in defaults', () => {
    const minimal = {
      id: 'orders',
      inbound: { auth: { type: 'hmac-sha256', secretRef: 'ORDERS_HMAC_SECRET' } },
      destinations: [{ id: 'erp', url: 'https://erp.example.com/orders' }],
    };

    const connector = parse([minimal]).byId.get('orders')!;

    expect(connector.inbound.maxBodyBytes).toBe(1048576);
    expect(connector.inbound.auth).toEqual({ type: 'hmac-sha256', header: 'X-Signature', secretRef: 'ORDERS_HMAC_SECRET' });
    expect(connector.destinations[0]).toEqual({
      id: 'erp',
      url: 'https://erp.example.com/orders',
      method: 'POST',
      timeoutInMilliseconds: 10000,
      connectTimeoutInMilliseconds: 5000,
      headersTimeoutInMilliseconds: 10000,
      responseBodyStartBytes: 4096,
      maxRedirects: 3,
      allowedPrivateRanges: [],
      retry: {
        maxAttempts: 5,
        firstIntervalInMilliseconds: 1000,
        backoffCoefficient: 2,
        maxIntervalInMilliseconds: 60000,
        totalDeadlineInMilliseconds: 86400000,
        jitter: 'full',
        minRetryAfterInMilliseconds: 1000,
        maxRetryAfterInMilliseconds: 3600000,
      },
      headers: {},
      forwardHeaders: [],
      circuitBreaker: { failureThreshold: 5, coolDownInMilliseconds: 30000 },
      maxConcurrentRequests: 16,
      ordering: 'none',
    });
  });

  test('gives the same configuration version to reordered keys', () => {
    const connector = validConnector();
    const reordered = Object.fromEntries(Object.entries(connector).reverse());

    expect(parse([reordered]).byId.get('orders')?.configurationVersion).toBe(parse([connector]).byId.get('orders')?.configurationVersion);
  });

  test('gives another configuration version to a changed destination', () => {
    const connector = validConnector();
    const before = parse([connector]).byId.get('orders')?.configurationVersion;
    connector.destinations[0].url = 'https://erp.example.com/v2/orders';

    expect(parse([connector]).byId.get('orders')?.configurationVersion).not.toBe(before);
  });

  test('rejects a static header value with a line break', () => {
    const connector = validConnector();
    connector.destinations[0].headers = { 'X-Tenant': 'blue\r\nX-Injected: 1' };

    expect(messageOf([connector])).toContain('/connectors/0/destinations/0/headers/X-Tenant');
  });

  test('accepts a static header value with spaces', () => {
    const connector = validConnector();
    connector.destinations[0].headers = { 'X-Tenant': 'blue team' };

    expect(parse([connector]).byId.get('orders')?.destinations[0].headers).toEqual({ 'X-Tenant': 'blue team' });
  });

  test('rejects an invalid destination filter with its path', () => {
    const connector = validConnector();
    connector.destinations[0].filter = 'status = ';

    expect(messageOf([connector])).toContain('/connectors/0/destinations/0/filter');
  });

  test('accepts explicit auth none', () => {
    const connector = validConnector();
    connector.inbound.auth = { type: 'none' };

    expect(parse([connector]).byId.get('orders')?.inbound.auth).toEqual({ type: 'none' });
  });

  test('rejects missing auth with path and fix', () => {
    const connector = validConnector();
    delete connector.inbound.auth;

    const message = messageOf([connector]);

    expect(message).toContain('Connectors file connectors.json is invalid');
    expect(message).toContain('/connectors/0/inbound/auth: required property "auth" is missing');
    expect(message).toContain('"auth": {"type": "none"}');
  });

  test('rejects unknown auth type', () => {
    const connector = validConnector();
    connector.inbound.auth = { type: 'oauth2' };

    expect(messageOf([connector])).toContain('/connectors/0/inbound/auth/type: the auth type is missing or unknown');
  });

  test('rejects hmac without secretRef', () => {
    const connector = validConnector();
    delete connector.inbound.auth.secretRef;

    expect(messageOf([connector])).toContain('/connectors/0/inbound/auth/secretRef: required property "secretRef" is missing');
  });

  test('rejects a secret value in place of secretRef', () => {
    const connector = validConnector();
    connector.inbound.auth.secret = 'plain-text';

    expect(messageOf([connector])).toContain('/connectors/0/inbound/auth/secret: "secret" is not a known property');
  });

  test('rejects an invalid destination url', () => {
    const connector = validConnector();
    connector.destinations[0].url = 'ftp://erp.example.com/orders';

    const message = messageOf([connector]);

    expect(message).toContain('/connectors/0/destinations/0/url');
    expect(message).toContain('use an absolute http or https URL');
  });

  test('rejects invalid CIDR with its path', () => {
    const connector = validConnector();
    connector.destinations[0].allowedPrivateRanges = ['127.0.0.0/8', '10.0.0.0/40'];

    expect(messageOf([connector])).toContain('/connectors/0/destinations/0/allowedPrivateRanges/1: must be a valid cidr');
  });

  test('rejects an invalid id', () => {
    const connector = validConnector();
    connector.id = 'Orders_1';

    expect(messageOf([connector])).toContain('/connectors/0/id: does not match the pattern');
  });

  test('rejects duplicate connector ids', () => {
    expect(messageOf([validConnector(), validConnector()])).toContain(
      '/connectors/1/id: connector id "orders" is already used by /connectors/0',
    );
  });

  test('rejects duplicate destination ids', () => {
    const connector = validConnector();
    connector.destinations.push({ ...connector.destinations[0] });

    expect(messageOf([connector])).toContain(
      '/connectors/0/destinations/1/id: destination id "erp" is already used by /connectors/0/destinations/0',
    );
  });

  test('rejects a JSONata syntax error with its path', () => {
    const connector = validConnector();
    connector.transform.expression = '{ "id": orderId ';

    const message = messageOf([connector]);

    expect(message).toContain('/connectors/0/transform/expression: is not a valid JSONata expression');
    expect(message).toContain('Fix: correct the JSONata syntax');
  });

  test('rejects an invalid entity key expression', () => {
    const connector = validConnector();
    connector.entity.key = 'orderId[';

    expect(messageOf([connector])).toContain('/connectors/0/entity/key: is not a valid JSONata expression');
  });

  test('rejects a private literal address outside the allowed ranges', () => {
    const connector = validConnector();
    connector.destinations[0].allowedPrivateRanges = [];

    const message = messageOf([connector]);

    expect(message).toContain('/connectors/0/destinations/0/url: host 127.0.0.1 is not a public address');
    expect(message).toContain('"127.0.0.1/32"');
  });

  test('rejects retry attempts below one', () => {
    const connector = validConnector();
    connector.destinations[0].retry.maxAttempts = 0;

    expect(messageOf([connector])).toContain('/connectors/0/destinations/0/retry/maxAttempts: must be >= 1. Fix: use a number >= 1');
  });

  test('rejects a connector without destinations', () => {
    const connector = validConnector();
    connector.destinations = [];

    expect(messageOf([connector])).toContain('/connectors/0/destinations');
  });

  test('rejects invalid JSON with the file name', () => {
    expect(() => parseConnectors('{ "connectors": [ }', 'broken.json')).toThrow(/Connectors file broken.json is not valid JSON/);
  });
});

describe('loadConnectors', () => {
  test('reads a file', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'connectors-'));
    const file = path.join(folder, 'connectors.json');
    fs.writeFileSync(file, JSON.stringify({ connectors: [validConnector()] }));

    try {
      expect(loadConnectors(file).file).toBe(file);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  test('missing file names the setting', () => {
    expect(() => loadConnectors('/nonexistent/connectors.json')).toThrow(
      /Connectors file \/nonexistent\/connectors.json does not exist.*CONNECTORS_FILE/,
    );
  });

  test('shipped sample is valid', () => {
    const sample = path.join(__dirname, '..', '..', 'connectors.sample.json');

    expect(loadConnectors(sample).byId.has('orders')).toBe(true);
  });
});
