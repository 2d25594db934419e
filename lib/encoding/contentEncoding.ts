import zlib from 'node:zlib';

/** Content codings that the connector decodes, as named in the `Content-Encoding` header. */
export const supportedContentEncodings = ['gzip', 'deflate', 'br'] as const;

export type SupportedContentEncoding = (typeof supportedContentEncodings)[number];

/** Default maximum size in bytes of a payload after its content coding is decoded: 10 MiB. */
export const defaultMaxDecodedBytes = 10 * 1024 * 1024;

export type ParsedContentEncoding =
  | { status: 'identity' }
  | { status: 'supported'; encoding: SupportedContentEncoding }
  | { status: 'unsupported'; headerValue: string };

export type DecodeResult =
  | { status: 'decoded'; bytes: Buffer }
  /** The decoded bytes exceeded the limit. Decoding stopped after `decodedBytesBeforeStop` bytes. */
  | { status: 'tooLarge'; decodedBytesBeforeStop: number }
  /** The bytes are not valid data of the coding, such as a truncated gzip stream. */
  | { status: 'invalid'; message: string };

/**
 * Parses a `Content-Encoding` header value. A missing or empty header and `identity` mean
 * that the body is not encoded, and `x-gzip` is read as `gzip` (RFC 9110, section 8.4.1.3).
 * A list of several codings is unsupported, because no partner is expected to stack them and
 * each stage would need its own size limit.
 */
export function parseContentEncoding(headerValue: string | null | undefined): ParsedContentEncoding {
  const codings = (headerValue ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length === 0) {
    return { status: 'identity' };
  }

  const coding = codings[0] === 'x-gzip' ? 'gzip' : codings[0];
  if (codings.length === 1 && isSupportedContentEncoding(coding)) {
    return { status: 'supported', encoding: coding };
  }
  return { status: 'unsupported', headerValue: headerValue ?? '' };
}

export function isSupportedContentEncoding(value: string): value is SupportedContentEncoding {
  return (supportedContentEncodings as readonly string[]).includes(value);
}

/**
 * Decodes `bytes` of the given content coding, keeping at most `maxDecodedBytes` of output.
 *
 * The decoder runs as a stream and counts its output. As soon as the count passes the limit it
 * destroys the stream, so a small body that expands to gigabytes costs about the limit plus one
 * 16 KiB output chunk in memory and time, not its full expansion. Never rejects: invalid data is
 * returned as an `invalid` result with zlib's message.
 */
export function decodeContentEncoding(bytes: Buffer, encoding: SupportedContentEncoding, maxDecodedBytes: number): Promise<DecodeResult> {
  return new Promise((resolve) => {
    const decoder = createDecoder(encoding, bytes);
    const chunks: Buffer[] = [];
    let decodedBytes = 0;
    let settled = false;
    const settle = (result: DecodeResult): void => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };

    decoder.on('data', (chunk: Buffer) => {
      decodedBytes += chunk.length;
      if (decodedBytes > maxDecodedBytes) {
        decoder.destroy();
        settle({ status: 'tooLarge', decodedBytesBeforeStop: decodedBytes });
        return;
      }
      chunks.push(chunk);
    });
    decoder.on('end', () => settle({ status: 'decoded', bytes: Buffer.concat(chunks, decodedBytes) }));
    decoder.on('error', (error: Error) => settle({ status: 'invalid', message: error.message }));
    decoder.end(bytes);
  });
}

function createDecoder(encoding: SupportedContentEncoding, bytes: Buffer): zlib.Gunzip | zlib.Inflate | zlib.InflateRaw | zlib.BrotliDecompress {
  switch (encoding) {
    case 'gzip':
      return zlib.createGunzip();
    case 'deflate':
      // HTTP's "deflate" is the zlib format (RFC 1950), but some clients send raw deflate
      // data (RFC 1951) under that name, so the zlib header decides.
      return hasZlibHeader(bytes) ? zlib.createInflate() : zlib.createInflateRaw();
    case 'br':
      return zlib.createBrotliDecompress();
  }
}

/**
 * Returns true when `bytes` start with a zlib header: compression method 8 (deflate), a window
 * size of at most 32 KiB, and a check value that makes the first two bytes a multiple of 31.
 */
function hasZlibHeader(bytes: Buffer): boolean {
  if (bytes.length < 2) {
    return false;
  }
  const methodAndWindow = bytes[0];
  const flags = bytes[1];
  return (methodAndWindow & 0x0f) === 8 && methodAndWindow >> 4 <= 7 && ((methodAndWindow << 8) | flags) % 31 === 0;
}
