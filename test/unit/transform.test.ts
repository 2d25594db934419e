import jsonata from 'jsonata';
import { describe, expect, test } from 'vitest';
import { parseConnectors } from '../../lib/config/loadConnectors';
import type { Connector } from '../../lib/config/types';
import { PermanentError } from '../../lib/errors';
import { compareVersions } from '../../lib/transform/compareVersions';
import { evaluateExpression, toJsonValue } from '../../lib/transform/evaluateExpression';
import { extractEntity } from '../../lib/transform/extractEntity';

function connectorWith(entity: Record<string, string> | undefined): Connector {
  const connector: Record<string, unknown> = {
    id: 'orders',
    inbound: { auth: { type: 'none' } },
    destinations: [{ id: 'erp', url: 'https://erp.example.com/orders' }],
  };
  if (entity !== undefined) {
    connector.entity = entity;
  }
  return parseConnectors(JSON.stringify({ connectors: [connector] }), 'connectors.json').list[0];
}

describe('evaluateExpression', () => {
  test('evaluates over the payload', async () => {
    const result = await evaluateExpression(jsonata("{ 'id': orderId }"), { orderId: 7 }, 'transform');

    expect(result).toEqual({ id: 7 });
  });

  test('runtime error becomes a permanent error', async () => {
    const evaluation = evaluateExpression(jsonata('$number(status)'), { status: 'paid' }, 'transform of connector orders');

    await expect(evaluation).rejects.toBeInstanceOf(PermanentError);
    await expect(evaluation).rejects.toThrow(/The transform of connector orders failed with JSONata error D3030/);
  });

  test('toJsonValue removes sequence markers', async () => {
    const result = await jsonata('items.sku').evaluate({ items: [{ sku: 'a' }, { sku: 'b' }] });

    expect(JSON.stringify(toJsonValue(result))).toBe('["a","b"]');
  });
});

describe('extractEntity', () => {
  test('reads key and version', async () => {
    const connector = connectorWith({ type: 'order', key: 'orderId', version: 'updatedAt' });

    const entity = await extractEntity(connector, { orderId: 123, updatedAt: '2024-05-01T10:00:00Z' }, 'orders-1');

    expect(entity).toEqual({ type: 'order', key: '123', version: '2024-05-01T10:00:00Z' });
  });

  test('returns undefined without entity config', async () => {
    expect(await extractEntity(connectorWith(undefined), { orderId: 1 }, 'orders-1')).toBeUndefined();
  });

  test('leaves version out without a version expression', async () => {
    const entity = await extractEntity(connectorWith({ type: 'order', key: 'orderId' }), { orderId: 'a' }, 'orders-1');

    expect(entity).toEqual({ type: 'order', key: 'a' });
  });

  test('missing key names expression, connector and message', async () => {
    const connector = connectorWith({ type: 'order', key: 'orderId', version: 'updatedAt' });

    const extraction = extractEntity(connector, { status: 'paid' }, 'orders-1');

    await expect(extraction).rejects.toBeInstanceOf(PermanentError);
    await expect(extraction).rejects.toThrow(
      'The entity key expression "orderId" of connector orders returned no value for message orders-1',
    );
  });

  test('object key is rejected', async () => {
    const connector = connectorWith({ type: 'order', key: 'order' });

    await expect(extractEntity(connector, { order: { id: 1 } }, 'orders-1')).rejects.toThrow('returned an object');
  });

  test('missing version is rejected', async () => {
    const connector = connectorWith({ type: 'order', key: 'orderId', version: 'updatedAt' });

    await expect(extractEntity(connector, { orderId: 1 }, 'orders-1')).rejects.toThrow(
      'The entity version expression "updatedAt" of connector orders returned no value',
    );
  });
});

describe('compareVersions', () => {
  test('numbers compare numerically', () => {
    expect(compareVersions(10, 9)).toBe(1);
    expect(compareVersions(9, 10)).toBe(-1);
    expect(compareVersions(3, 3)).toBe(0);
  });

  test('date-times compare as instants', () => {
    expect(compareVersions('2024-05-01T10:00:01Z', '2024-05-01T10:00:00Z')).toBe(1);
    expect(compareVersions('2024-05-01T12:00:00+02:00', '2024-05-01T10:00:00Z')).toBe(0);
    expect(compareVersions('2024-05-02', '2024-05-01T23:59:59Z')).toBe(1);
  });

  test('other strings compare as strings', () => {
    expect(compareVersions('b', 'a')).toBe(1);
    expect(compareVersions('10', '9')).toBe(-1);
    expect(compareVersions('v1', 'v1')).toBe(0);
  });

  test('number and string compare as strings', () => {
    expect(compareVersions(10, '9')).toBe(-1);
  });
});
