import { describe, expect, test } from 'vitest';
import { parseConnectors } from '../../lib/config/loadConnectors';
import { ConfigurationError } from '../../lib/errors';
import {
  createPayloadScrubber,
  listValuesAtPointers,
  parseJsonPointer,
  redactPayload,
  scrubValues,
} from '../../lib/redaction/redactPayload';

const order = {
  orderId: 'A-1',
  customer: { email: 'ada@example.com', name: 'Ada' },
  cards: [{ number: '4111111111111111' }, { number: '5500000000000004' }],
  'a/b': { '~c': 'escaped' },
  count: 42,
};

describe('parseJsonPointer', () => {
  test('splits and decodes tokens', () => {
    expect(parseJsonPointer('/customer/email')).toEqual(['customer', 'email']);
    expect(parseJsonPointer('/a~1b/~0c')).toEqual(['a/b', '~c']);
    expect(parseJsonPointer('/~01')).toEqual(['~1']);
    expect(parseJsonPointer('/')).toEqual(['']);
  });

  test.each([
    ['', /whole payload/],
    ['customer/email', /must start with "\/"/],
    ['/a~2b', /"~" must be written as "~0"/],
    ['/trailing~', /"~" must be written as "~0"/],
  ])('rejects %j', (pointer, message) => {
    expect(() => parseJsonPointer(pointer)).toThrow(message);
  });
});

describe('redactPayload', () => {
  test('replaces a nested value', () => {
    const redacted = redactPayload(order, ['/customer/email']) as typeof order;

    expect(redacted.customer.email).toBe('[redacted]');
    expect(redacted.customer.name).toBe('Ada');
    expect(redacted.orderId).toBe('A-1');
  });

  test('replaces only the given array index', () => {
    const redacted = redactPayload(order, ['/cards/1/number']) as typeof order;

    expect(redacted.cards[0].number).toBe('4111111111111111');
    expect(redacted.cards[1].number).toBe('[redacted]');
  });

  test('decodes escaped tokens', () => {
    const redacted = redactPayload(order, ['/a~1b/~0c']) as typeof order;

    expect(redacted['a/b']['~c']).toBe('[redacted]');
  });

  test('replaces a whole object', () => {
    const redacted = redactPayload(order, ['/customer']) as Record<string, unknown>;

    expect(redacted.customer).toBe('[redacted]');
  });

  test('ignores missing pointers', () => {
    const pointers = ['/customer/phone', '/cards/7/number', '/cards/-', '/cards/01/number', '/orderId/length', '/count/0'];

    expect(redactPayload(order, pointers)).toEqual(order);
  });

  test('leaves the input unchanged', () => {
    const copy = structuredClone(order);

    redactPayload(order, ['/customer/email', '/cards/0/number']);

    expect(order).toEqual(copy);
  });
});

describe('listValuesAtPointers', () => {
  test('collects nested scalars', () => {
    expect(listValuesAtPointers(order, ['/customer', '/count'])).toEqual(['ada@example.com', 'Ada', '42']);
  });
});

describe('createPayloadScrubber', () => {
  const scrubber = createPayloadScrubber(order, ['/customer/email', '/count']);

  test('replaces a value inside text', () => {
    expect(scrubber.scrub('The entity key "ada@example.com" is invalid')).toBe('The entity key "[redacted]" is invalid');
  });

  test('replaces a short value only when whole', () => {
    expect(scrubber.scrub('42')).toBe('[redacted]');
    expect(scrubber.scrub('order 42 of 420')).toBe('order 42 of 420');
  });

  test('scrubValues replaces strings and numbers', () => {
    const detail = { entityKey: 'ada@example.com', version: 42, note: 'for ada@example.com', other: 7 };

    expect(scrubValues(detail, scrubber)).toEqual({ entityKey: '[redacted]', version: '[redacted]', note: 'for [redacted]', other: 7 });
  });
});

describe('connector redact setting', () => {
  function connectorWith(redact: unknown): Record<string, unknown> {
    return {
      id: 'orders',
      inbound: { auth: { type: 'none' } },
      redact,
      destinations: [{ id: 'erp', url: 'http://127.0.0.1:9000/orders', allowedPrivateRanges: ['127.0.0.0/8'] }],
    };
  }

  function parse(redact: unknown): ReturnType<typeof parseConnectors> {
    return parseConnectors(JSON.stringify({ connectors: [connectorWith(redact)] }), 'connectors.json');
  }

  test('loads valid pointers', () => {
    const connectors = parse(['/customer/email', '/cards/0/number', '/a~1b']);

    expect(connectors.list[0].redact).toEqual(['/customer/email', '/cards/0/number', '/a~1b']);
  });

  test('defaults to no pointers', () => {
    const connectors = parseConnectors(JSON.stringify({ connectors: [{ ...connectorWith(undefined), redact: undefined }] }), 'connectors.json');

    expect(connectors.list[0].redact).toEqual([]);
  });

  test('rejects an invalid pointer with its path', () => {
    expect(() => parse(['/customer/email', 'card/number'])).toThrow(ConfigurationError);
    expect(() => parse(['/customer/email', 'card/number'])).toThrow(
      /\/connectors\/0\/redact\/1: "card\/number" is not a valid JSON pointer \(RFC 6901\): a JSON pointer must start with "\/"\. Fix: /,
    );
  });

  test('rejects a bad escape', () => {
    expect(() => parse(['/card~number'])).toThrow(/\/connectors\/0\/redact\/0: .*"~" must be written as "~0"/);
  });

  test('rejects a non-string entry', () => {
    expect(() => parse([7])).toThrow(/\/connectors\/0\/redact\/0/);
  });
});
