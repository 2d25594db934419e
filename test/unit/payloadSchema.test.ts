import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConnectors, parseConnectors } from '../../lib/config/loadConnectors';
import type { Connector } from '../../lib/config/types';
import { ConfigurationError } from '../../lib/errors';
import { ordersConnector } from './support/testDependencies';

const orderSchema = {
  type: 'object',
  required: ['orderId', 'customer'],
  properties: {
    orderId: { type: 'string' },
    customer: {
      type: 'object',
      required: ['email'],
      properties: { email: { type: 'string', format: 'email' } },
    },
    items: { type: 'array', items: { type: 'object', properties: { quantity: { type: 'integer', minimum: 1 } } } },
    status: { enum: ['paid', 'shipped'] },
    meta: { type: 'object', additionalProperties: false, properties: { source: { type: 'string' } } },
  },
};

function connectorWith(inbound: Record<string, unknown>, changes: Record<string, unknown> = {}): Record<string, any> {
  const connector = ordersConnector();
  return { ...connector, inbound: { ...connector.inbound, ...inbound }, ...changes };
}

function parseOne(connector: unknown): Connector {
  return parseConnectors(JSON.stringify({ connectors: [connector] }), 'connectors.json').list[0];
}

function configurationErrorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigurationError');
}

describe('connector inbound defaults', () => {
  test('maxDecodedBytes defaults to 10 MiB', () => {
    expect(parseOne(ordersConnector()).inbound.maxDecodedBytes).toBe(10 * 1024 * 1024);
  });

  test('acceptedContentTypes defaults to none', () => {
    expect(parseOne(ordersConnector()).inbound.acceptedContentTypes).toEqual([]);
  });

  test('connector without schema has no validator', () => {
    expect(parseOne(ordersConnector()).payloadValidator).toBeUndefined();
  });
});

describe('payload schema errors', () => {
  const validate = (payload: unknown) => {
    const validator = parseOne(connectorWith({ schema: orderSchema })).payloadValidator;
    if (validator === undefined) {
      throw new Error('expected a compiled schema');
    }
    return validator(payload);
  };

  test('valid payload has no errors', () => {
    expect(validate({ orderId: '1', customer: { email: 'a@example.com' }, items: [{ quantity: 2 }] })).toEqual([]);
  });

  test('missing property points at the property', () => {
    expect(validate({ orderId: '1', customer: {} })).toEqual([{ pointer: '/customer/email', message: 'required property "email" is missing' }]);
  });

  test('wrong type in an array points at the item', () => {
    expect(validate({ orderId: '1', customer: { email: 'a@example.com' }, items: [{ quantity: 1 }, { quantity: 'two' }] })).toEqual([
      { pointer: '/items/1/quantity', message: 'must be integer' },
    ]);
  });

  test('lists every error', () => {
    const errors = validate({ orderId: 7, customer: { email: 'not an address' }, status: 'lost' });

    expect(errors.map((error) => error.pointer).sort()).toEqual(['/customer/email', '/orderId', '/status']);
  });

  test('enum error names the allowed values', () => {
    const errors = validate({ orderId: '1', customer: { email: 'a@example.com' }, status: 'lost' });

    expect(errors).toEqual([{ pointer: '/status', message: 'must be one of ["paid","shipped"]' }]);
  });

  test('unexpected property is escaped in the pointer', () => {
    const errors = validate({ orderId: '1', customer: { email: 'a@example.com' }, meta: { 'a/b~c': 1 } });

    expect(errors).toEqual([{ pointer: '/meta/a~1b~0c', message: 'property "a/b~c" is not allowed by the schema' }]);
  });

  test('wrong root type has the empty pointer', () => {
    expect(validate([1, 2])).toEqual([{ pointer: '', message: 'must be object' }]);
  });
});

describe('payload schema configuration', () => {
  const folders: string[] = [];

  afterEach(() => {
    folders.splice(0).forEach((folder) => fs.rmSync(folder, { recursive: true, force: true }));
  });

  function writeFolder(files: Record<string, string>): string {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'payload-schema-'));
    folders.push(folder);
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
      fs.writeFileSync(path.join(folder, name), text);
    }
    return folder;
  }

  test('invalid inline schema names its path', () => {
    const message = configurationErrorOf(() => parseOne(connectorWith({ schema: { type: 'strin' } })));

    expect(message).toContain('/connectors/0/inbound/schema: the schema is not a valid JSON Schema (draft 2020-12)');
  });

  test('unresolvable $ref is an invalid schema', () => {
    const message = configurationErrorOf(() => parseOne(connectorWith({ schema: { $ref: '#/$defs/missing' } })));

    expect(message).toContain('/connectors/0/inbound/schema');
  });

  test('unknown keywords are allowed', () => {
    expect(parseOne(connectorWith({ schema: { type: 'object', 'x-owner': 'team-a' } })).payloadValidator).toBeDefined();
  });

  test('schema file is read relative to the connectors file', () => {
    const folder = writeFolder({
      'schemas/order.json': JSON.stringify(orderSchema),
      'connectors.json': JSON.stringify({ connectors: [connectorWith({ schemaFile: 'schemas/order.json' })] }),
    });

    const connector = loadConnectors(path.join(folder, 'connectors.json')).list[0];

    expect(connector.payloadValidator?.({ orderId: '1' })).toEqual([{ pointer: '/customer', message: 'required property "customer" is missing' }]);
  });

  test('missing schema file names the path and the file', () => {
    const folder = writeFolder({ 'connectors.json': JSON.stringify({ connectors: [connectorWith({ schemaFile: 'order.json' })] }) });

    const message = configurationErrorOf(() => loadConnectors(path.join(folder, 'connectors.json')));

    expect(message).toContain(`/connectors/0/inbound/schemaFile: schema file ${path.join(folder, 'order.json')} cannot be read (ENOENT)`);
  });

  test('schema file that is not JSON names the path', () => {
    const folder = writeFolder({
      'order.json': '{ "type": ',
      'connectors.json': JSON.stringify({ connectors: [connectorWith({ schemaFile: 'order.json' })] }),
    });

    const message = configurationErrorOf(() => loadConnectors(path.join(folder, 'connectors.json')));

    expect(message).toContain('/connectors/0/inbound/schemaFile: schema file');
    expect(message).toContain('is not valid JSON');
  });

  test('schema and schemaFile together are rejected', () => {
    const message = configurationErrorOf(() => parseOne(connectorWith({ schema: orderSchema, schemaFile: 'order.json' })));

    expect(message).toContain('/connectors/0/inbound/schemaFile: is set together with inbound.schema');
  });
});

describe('acceptedContentTypes configuration', () => {
  test('opaque type on a connector with transform names the path', () => {
    const message = configurationErrorOf(() => parseOne(connectorWith({ acceptedContentTypes: ['application/x-ndjson'] })));

    expect(message).toContain('/connectors/0/inbound/acceptedContentTypes/0: "application/x-ndjson" is not JSON');
    expect(message).toContain('transform and entity');
  });

  test('opaque type without transform and entity is accepted', () => {
    const connector = parseOne(connectorWith({ acceptedContentTypes: ['application/x-ndjson', 'text/csv'] }, { transform: undefined, entity: undefined }));

    expect(connector.inbound.acceptedContentTypes).toEqual(['application/x-ndjson', 'text/csv']);
  });

  test('JSON type on a connector with transform is accepted', () => {
    expect(parseOne(connectorWith({ acceptedContentTypes: ['application/geo+json'] })).inbound.acceptedContentTypes).toEqual(['application/geo+json']);
  });

  test('media type with parameters is rejected', () => {
    const message = configurationErrorOf(() =>
      parseOne(connectorWith({ acceptedContentTypes: ['text/csv; charset=utf-8'] }, { transform: undefined, entity: undefined })),
    );

    expect(message).toContain('/connectors/0/inbound/acceptedContentTypes/0');
    expect(message).toContain('use a media type without parameters');
  });
});
