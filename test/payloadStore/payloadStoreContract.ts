import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { InvalidPayloadNameError, type PayloadStore } from '../../lib/payloadStore/PayloadStore';
import { PermanentError } from '../../lib/errors';

export interface StoreFixture {
  store: PayloadStore;
  close(): Promise<void>;
}

const byteOrderMark = Buffer.from([0xef, 0xbb, 0xbf]);
const everyByteValue = Buffer.from(Array.from({ length: 256 }, (_, value) => value));

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Runs the contract that every PayloadStore adapter must pass. */
export function describePayloadStoreContract(openStore: () => Promise<StoreFixture>): void {
  let fixture: StoreFixture;
  // Every name lives under a fresh prefix, so runs against a shared account do not collide,
  // and afterAll deletes each name a test used.
  const runPrefix = `contract-tests/${randomUUID()}`;
  const usedNames = new Set<string>();
  const nameFor = (suffix: string): string => {
    const name = `${runPrefix}/${suffix}`;
    usedNames.add(name);
    return name;
  };

  beforeAll(async () => {
    fixture = await openStore();
  });

  afterAll(async () => {
    if (fixture === undefined) {
      return;
    }
    await Promise.all([...usedNames].map((name) => fixture.store.delete(name)));
    await fixture.close();
  });

  it('round trip keeps exact bytes', async () => {
    const name = nameFor('exact-bytes');
    const bytes = Buffer.concat([byteOrderMark, Buffer.from('Grüße, 日本語, emoji 🚀\r\n', 'utf8'), everyByteValue]);

    await fixture.store.put(name, bytes, { contentType: 'application/octet-stream' });
    const stored = await fixture.store.get(name);

    expect(stored?.bytes).toEqual(bytes);
  });

  it('put returns size and sha256', async () => {
    const bytes = Buffer.concat([byteOrderMark, everyByteValue]);

    const digest = await fixture.store.put(nameFor('put-digest'), bytes, { contentType: 'application/octet-stream' });

    expect(digest.sizeInBytes).toBe(259);
    expect(digest.sha256).toBe(sha256Of(bytes));
  });

  it('get returns size and sha256', async () => {
    const name = nameFor('get-digest');
    const bytes = Buffer.from('{"orderId":"A-1","note":"naïve café"}', 'utf8');

    await fixture.store.put(name, bytes, { contentType: 'application/json' });
    const stored = await fixture.store.get(name);

    expect(stored?.sizeInBytes).toBe(bytes.length);
    expect(stored?.sha256).toBe(sha256Of(bytes));
    expect(stored?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('content headers round trip', async () => {
    const name = nameFor('content-headers');
    const gzippedBytes = gzipSync(Buffer.from('{"orderId":"A-2"}', 'utf8'));

    await fixture.store.put(name, gzippedBytes, { contentType: 'application/json; charset=utf-8', contentEncoding: 'gzip' });
    const stored = await fixture.store.get(name);

    expect(stored?.contentType).toBe('application/json; charset=utf-8');
    expect(stored?.contentEncoding).toBe('gzip');
    // The store returns the encoded bytes as written and never decompresses them.
    expect(stored?.bytes).toEqual(gzippedBytes);
  });

  it('absent content encoding stays absent', async () => {
    const name = nameFor('no-content-encoding');

    await fixture.store.put(name, Buffer.from('plain'), { contentType: 'text/plain' });
    const stored = await fixture.store.get(name);

    expect(stored?.contentEncoding).toBeUndefined();
  });

  it('overwrite replaces bytes and headers', async () => {
    const name = nameFor('overwrite');
    const secondBytes = Buffer.from('second version', 'utf8');

    await fixture.store.put(name, gzipSync(Buffer.from('first version')), { contentType: 'application/json', contentEncoding: 'gzip' });
    await fixture.store.put(name, secondBytes, { contentType: 'text/plain' });
    const stored = await fixture.store.get(name);

    expect(stored?.bytes).toEqual(secondBytes);
    expect(stored?.contentType).toBe('text/plain');
    expect(stored?.contentEncoding).toBeUndefined();
    expect(stored?.sha256).toBe(sha256Of(secondBytes));
  });

  it('get of missing name returns undefined', async () => {
    const stored = await fixture.store.get(nameFor('never-written'));

    expect(stored).toBeUndefined();
  });

  it('exists follows put and delete', async () => {
    const name = nameFor('exists');

    expect(await fixture.store.exists(name)).toBe(false);
    await fixture.store.put(name, Buffer.from('x'), { contentType: 'text/plain' });
    expect(await fixture.store.exists(name)).toBe(true);
    await fixture.store.delete(name);
    expect(await fixture.store.exists(name)).toBe(false);
  });

  it('delete reports whether payload existed', async () => {
    const name = nameFor('delete');
    await fixture.store.put(name, Buffer.from('x'), { contentType: 'text/plain' });

    expect(await fixture.store.delete(name)).toBe(true);
    expect(await fixture.store.delete(name)).toBe(false);
    expect(await fixture.store.get(name)).toBeUndefined();
  });

  it('empty payload round trips', async () => {
    const name = nameFor('empty');

    const digest = await fixture.store.put(name, Buffer.alloc(0), { contentType: 'application/json' });
    const stored = await fixture.store.get(name);

    expect(digest.sha256).toBe(sha256Of(Buffer.alloc(0)));
    expect(stored?.sizeInBytes).toBe(0);
    expect(stored?.bytes).toEqual(Buffer.alloc(0));
  });

  it('200 KB payload round trips', async () => {
    const name = nameFor('large');
    const bytes = randomBytes(200 * 1024);

    const digest = await fixture.store.put(name, bytes, { contentType: 'application/octet-stream' });
    const stored = await fixture.store.get(name);

    expect(digest.sizeInBytes).toBe(204_800);
    expect(stored?.sha256).toBe(sha256Of(bytes));
    // Buffer.equals, because a deep toEqual over 200 KB takes about half a second.
    expect(stored?.bytes.equals(bytes)).toBe(true);
  });

  it('names differing in case are distinct', async () => {
    const upperName = nameFor('Order-A');
    const lowerName = nameFor('order-a');

    await fixture.store.put(upperName, Buffer.from('upper'), { contentType: 'text/plain' });
    await fixture.store.put(lowerName, Buffer.from('lower'), { contentType: 'text/plain' });

    expect((await fixture.store.get(upperName))?.bytes.toString()).toBe('upper');
    expect((await fixture.store.get(lowerName))?.bytes.toString()).toBe('lower');
  });

  it('name and its prefix coexist', async () => {
    const parentName = nameFor('orders');
    const childName = nameFor('orders/A-3');

    await fixture.store.put(parentName, Buffer.from('parent'), { contentType: 'text/plain' });
    await fixture.store.put(childName, Buffer.from('child'), { contentType: 'text/plain' });

    expect((await fixture.store.get(parentName))?.bytes.toString()).toBe('parent');
    expect((await fixture.store.get(childName))?.bytes.toString()).toBe('child');
  });

  it('URL characters in names round trip', async () => {
    const encodedName = nameFor('a%20b?c=1&d#e+f/ü 日本');
    const decodedName = nameFor('a b?c=1&d#e+f/ü 日本');

    await fixture.store.put(encodedName, Buffer.from('encoded'), { contentType: 'text/plain' });
    await fixture.store.put(decodedName, Buffer.from('decoded'), { contentType: 'text/plain' });

    expect((await fixture.store.get(encodedName))?.bytes.toString()).toBe('encoded');
    expect((await fixture.store.get(decodedName))?.bytes.toString()).toBe('decoded');
  });

  it('concurrent puts stay intact', async () => {
    const distinctNames = Array.from({ length: 20 }, (_, index) => nameFor(`concurrent/${index}`));
    const sharedName = nameFor('concurrent/shared');
    const versions = Array.from({ length: 10 }, (_, index) => Buffer.from(`version ${index} `.repeat(100 + index)));

    await Promise.all([
      ...distinctNames.map((name, index) => fixture.store.put(name, Buffer.from(`payload ${index}`), { contentType: 'text/plain' })),
      ...versions.map((bytes) => fixture.store.put(sharedName, bytes, { contentType: 'text/plain' })),
    ]);
    const storedDistinct = await Promise.all(distinctNames.map((name) => fixture.store.get(name)));
    const storedShared = await fixture.store.get(sharedName);

    expect(storedDistinct.map((stored) => stored?.bytes.toString())).toEqual(distinctNames.map((_, index) => `payload ${index}`));
    expect(versions.some((bytes) => storedShared?.bytes.equals(bytes))).toBe(true);
  });

  it.each([
    { case: 'empty', name: '', message: 'Invalid payload name "": it must be a non-empty string such as "raw/orders/<messageId>".' },
    {
      case: 'too long',
      name: 'a'.repeat(1025),
      message: 'it has 1025 characters and the maximum is 1024. Use a shorter message id or connector id.',
    },
    { case: 'backslash', name: 'raw\\orders', message: 'Invalid payload name "raw\\\\orders": it must not contain a backslash. Separate segments with "/".' },
    {
      case: 'leading slash',
      name: '/raw/orders',
      message: 'Invalid payload name "/raw/orders": it must not start with "/". Names are relative, such as "raw/orders/<messageId>".',
    },
    { case: 'parent segment', name: 'raw/../secrets', message: 'Invalid payload name "raw/../secrets": it must not contain "." or ".." segments.' },
    { case: 'dot segment', name: 'raw/./orders', message: 'Invalid payload name "raw/./orders": it must not contain "." or ".." segments.' },
    { case: 'empty segment', name: 'raw//orders', message: 'Invalid payload name "raw//orders": it must not contain an empty segment ("//" or a trailing "/").' },
    { case: 'trailing slash', name: 'raw/orders/', message: 'Invalid payload name "raw/orders/": it must not contain an empty segment ("//" or a trailing "/").' },
    {
      case: 'control character',
      name: 'raw/a\u0000b',
      message: 'Invalid payload name "raw/a\\u0000b": it must not contain control characters or unpaired surrogates.',
    },
    { case: 'too many segments', name: Array.from({ length: 255 }, () => 'a').join('/'), message: 'it has 255 segments and the maximum is 254.' },
  ])('put rejects $case name', async ({ name, message }) => {
    await expect(fixture.store.put(name, Buffer.from('x'), { contentType: 'text/plain' })).rejects.toThrow(message);
  });

  it('every method rejects invalid names', async () => {
    const message = 'Invalid payload name "raw/../secrets": it must not contain "." or ".." segments.';

    await expect(fixture.store.get('raw/../secrets')).rejects.toThrow(message);
    await expect(fixture.store.exists('raw/../secrets')).rejects.toThrow(message);
    await expect(fixture.store.delete('raw/../secrets')).rejects.toThrow(message);
  });

  it('invalid name is permanent error', async () => {
    const put = fixture.store.put('raw/../secrets', Buffer.from('x'), { contentType: 'text/plain' });

    await expect(put).rejects.toBeInstanceOf(InvalidPayloadNameError);
    await expect(put).rejects.toBeInstanceOf(PermanentError);
  });

  it('put rejects blank content type', async () => {
    const put = fixture.store.put(nameFor('blank-content-type'), Buffer.from('x'), { contentType: ' ' });

    await expect(put).rejects.toThrow('Invalid content type " ": expected a non-empty header value such as "application/json".');
  });
}
