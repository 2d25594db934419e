import { describe, expect, test } from 'vitest';
import { decodeUtf8ForParsing, parseJsonBytes } from '../../lib/encoding/jsonBytes';
import { PermanentError } from '../../lib/errors';
import { parseJsonPayload } from '../../lib/payloads';

const bomBytes = Buffer.from([0xef, 0xbb, 0xbf]);

describe('parseJsonBytes', () => {
  test('ignores one leading byte order mark', () => {
    const bytes = Buffer.concat([bomBytes, Buffer.from('{"orderId":"1"}')]);

    expect(parseJsonBytes(bytes)).toEqual({ orderId: '1' });
  });

  test('rejects a second byte order mark', () => {
    const bytes = Buffer.concat([bomBytes, bomBytes, Buffer.from('{"orderId":"1"}')]);

    expect(() => parseJsonBytes(bytes)).toThrow(SyntaxError);
  });

  test('keeps U+FEFF inside a string', () => {
    expect(parseJsonBytes(Buffer.from('{"note":"\uFEFFa"}', 'utf8'))).toEqual({ note: '\uFEFFa' });
  });

  test('keeps noncharacters, emoji and escaped control characters', () => {
    const value = { note: 'a\uFFFEb 🚚 \u0001\u001f' };

    expect(parseJsonBytes(Buffer.from(JSON.stringify(value), 'utf8'))).toEqual(value);
  });

  test('rejects invalid UTF-8', () => {
    expect(() => parseJsonBytes(Buffer.from([0x22, 0xff, 0x22]))).toThrow(TypeError);
  });
});

describe('decodeUtf8ForParsing', () => {
  test('leaves text without a byte order mark unchanged', () => {
    expect(decodeUtf8ForParsing(Buffer.from('[1]'))).toBe('[1]');
  });

  test('does not change the input bytes', () => {
    const bytes = Buffer.concat([bomBytes, Buffer.from('[1]')]);
    const copy = Buffer.from(bytes);

    decodeUtf8ForParsing(bytes);

    expect(bytes.equals(copy)).toBe(true);
  });
});

describe('parseJsonPayload', () => {
  test('accepts a byte order mark', () => {
    expect(parseJsonPayload(Buffer.concat([bomBytes, Buffer.from('{"a":1}')]), 'raw/x/y')).toEqual({ a: 1 });
  });

  test('names the payload when it is not JSON', () => {
    expect(() => parseJsonPayload(Buffer.from('{'), 'raw/x/y')).toThrow(PermanentError);
    expect(() => parseJsonPayload(Buffer.from('{'), 'raw/x/y')).toThrow('Payload raw/x/y is not valid UTF-8 JSON');
  });
});
