import zlib from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { decodeContentEncoding, parseContentEncoding } from '../../lib/encoding/contentEncoding';

const payload = Buffer.from(JSON.stringify({ orderId: '1001', note: 'Grüße 🚚', items: Array.from({ length: 50 }, (_, index) => ({ index })) }), 'utf8');

describe('parseContentEncoding', () => {
  test('missing, empty and identity mean not encoded', () => {
    for (const headerValue of [null, undefined, '', '  ', 'identity', ' Identity ']) {
      expect(parseContentEncoding(headerValue), String(headerValue)).toEqual({ status: 'identity' });
    }
  });

  test('supported codings ignore case', () => {
    expect(parseContentEncoding('GZIP')).toEqual({ status: 'supported', encoding: 'gzip' });
    expect(parseContentEncoding('deflate')).toEqual({ status: 'supported', encoding: 'deflate' });
    expect(parseContentEncoding('br')).toEqual({ status: 'supported', encoding: 'br' });
  });

  test('x-gzip is read as gzip', () => {
    expect(parseContentEncoding('x-gzip')).toEqual({ status: 'supported', encoding: 'gzip' });
  });

  test('unknown coding is unsupported', () => {
    expect(parseContentEncoding('compress')).toEqual({ status: 'unsupported', headerValue: 'compress' });
  });

  test('stacked codings are unsupported', () => {
    expect(parseContentEncoding('gzip, br')).toEqual({ status: 'unsupported', headerValue: 'gzip, br' });
  });
});

describe('decodeContentEncoding', () => {
  const limit = 1024 * 1024;

  test('decodes gzip', async () => {
    const result = await decodeContentEncoding(zlib.gzipSync(payload), 'gzip', limit);

    expect(result).toEqual({ status: 'decoded', bytes: payload });
  });

  test('decodes zlib-wrapped deflate', async () => {
    const result = await decodeContentEncoding(zlib.deflateSync(payload), 'deflate', limit);

    expect(result).toEqual({ status: 'decoded', bytes: payload });
  });

  test('decodes raw deflate sent as deflate', async () => {
    const result = await decodeContentEncoding(zlib.deflateRawSync(payload), 'deflate', limit);

    expect(result).toEqual({ status: 'decoded', bytes: payload });
  });

  test('decodes br', async () => {
    const result = await decodeContentEncoding(zlib.brotliCompressSync(payload), 'br', limit);

    expect(result).toEqual({ status: 'decoded', bytes: payload });
  });

  test('output of exactly the limit is decoded', async () => {
    const result = await decodeContentEncoding(zlib.gzipSync(payload), 'gzip', payload.length);

    expect(result.status).toBe('decoded');
  });

  test('output one byte over the limit is too large', async () => {
    const result = await decodeContentEncoding(zlib.gzipSync(payload), 'gzip', payload.length - 1);

    expect(result.status).toBe('tooLarge');
  });

  test('data that is not gzip is invalid', async () => {
    const result = await decodeContentEncoding(payload, 'gzip', limit);

    expect(result).toEqual({ status: 'invalid', message: 'incorrect header check' });
  });

  test('truncated gzip is invalid', async () => {
    const compressed = zlib.gzipSync(payload);

    const result = await decodeContentEncoding(compressed.subarray(0, compressed.length - 10), 'gzip', limit);

    expect(result.status).toBe('invalid');
  });

  describe('compression bomb', () => {
    // 64 MiB of zeros compress to about 64 KiB with gzip and to a few hundred bytes with br.
    const expandedBytes = 64 * 1024 * 1024;
    const smallLimit = 64 * 1024;
    // The decoder stops at the first 16 KiB output chunk past the limit.
    const maxDecodedBeforeStop = smallLimit + 16 * 1024;
    const zeros = Buffer.alloc(expandedBytes);

    test('gzip stops right after the limit', async () => {
      const bomb = zlib.gzipSync(zeros, { level: 9 });
      expect(bomb.length * 500).toBeLessThan(expandedBytes);

      const result = await decodeContentEncoding(bomb, 'gzip', smallLimit);

      expect(result.status).toBe('tooLarge');
      expect((result as { decodedBytesBeforeStop: number }).decodedBytesBeforeStop).toBeLessThanOrEqual(maxDecodedBeforeStop);
    });

    test('br stops right after the limit', async () => {
      const bomb = zlib.brotliCompressSync(zeros, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } });
      expect(bomb.length * 10_000).toBeLessThan(expandedBytes);

      const result = await decodeContentEncoding(bomb, 'br', smallLimit);

      expect(result.status).toBe('tooLarge');
      expect((result as { decodedBytesBeforeStop: number }).decodedBytesBeforeStop).toBeLessThanOrEqual(maxDecodedBeforeStop);
    });

    test('deflate stops right after the limit', async () => {
      const bomb = zlib.deflateSync(zeros, { level: 9 });

      const result = await decodeContentEncoding(bomb, 'deflate', smallLimit);

      expect(result.status).toBe('tooLarge');
      expect((result as { decodedBytesBeforeStop: number }).decodedBytesBeforeStop).toBeLessThanOrEqual(maxDecodedBeforeStop);
    });
  });
});
