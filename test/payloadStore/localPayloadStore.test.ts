import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { PermanentError } from '../../lib/errors';
import { FilePayloadStore } from '../../lib/payloadStore/FilePayloadStore';
import { LocalPayloadStore, localPayloadDatabaseFileName } from '../../lib/payloadStore/LocalPayloadStore';
import { describePayloadStoreContract, sha256Of } from './payloadStoreContract';

const inlineLimitInBytes = 64;
const smallBytes = Buffer.from('small payload');
const largeBytes = Buffer.alloc(inlineLimitInBytes + 1, 0x61);
const headers = { contentType: 'text/plain' };

describe('local payload store', () => {
  let rootFolder: string;

  beforeAll(async () => {
    rootFolder = await mkdtemp(join(tmpdir(), 'local-payload-store-'));
  });

  afterAll(async () => {
    await rm(rootFolder, { recursive: true, force: true });
  });

  describe('contract', () => {
    describePayloadStoreContract(async () => {
      const dataFolder = await mkdtemp(join(rootFolder, 'contract-'));
      const store = new LocalPayloadStore(dataFolder, join(dataFolder, 'payloads'));
      return { store, close: async () => store.close() };
    });
  });

  describe('contract with files for all but the smallest payloads', () => {
    describePayloadStoreContract(async () => {
      const dataFolder = await mkdtemp(join(rootFolder, 'contract-files-'));
      const store = new LocalPayloadStore(dataFolder, join(dataFolder, 'payloads'), { inlineLimitInBytes: 16 });
      return { store, close: async () => store.close() };
    });
  });

  describe('placement', () => {
    let dataFolder: string;
    let fileFolder: string;
    let store: LocalPayloadStore;

    beforeEach(async () => {
      dataFolder = await mkdtemp(join(rootFolder, 'placement-'));
      fileFolder = join(dataFolder, 'payloads');
      store = new LocalPayloadStore(dataFolder, fileFolder, { inlineLimitInBytes });
    });

    afterEach(() => {
      store.close();
    });

    it('small payload goes to the database', async () => {
      await store.put('raw/orders/m-1', smallBytes, headers);

      expect(store.listDatabaseNames()).toEqual(['raw/orders/m-1']);
      expect(await new FilePayloadStore(fileFolder).exists('raw/orders/m-1')).toBe(false);
    });

    it('large payload goes to a file', async () => {
      await store.put('raw/orders/m-1', largeBytes, headers);

      expect(store.listDatabaseNames()).toEqual([]);
      expect((await new FilePayloadStore(fileFolder).get('raw/orders/m-1'))?.bytes).toEqual(largeBytes);
      expect((await store.get('raw/orders/m-1'))?.bytes).toEqual(largeBytes);
    });

    it('small put after large put wins', async () => {
      await store.put('raw/orders/m-1', largeBytes, headers);

      await store.put('raw/orders/m-1', smallBytes, headers);

      expect((await store.get('raw/orders/m-1'))?.bytes).toEqual(smallBytes);
    });

    it('large put after small put wins', async () => {
      await store.put('raw/orders/m-1', smallBytes, headers);

      await store.put('raw/orders/m-1', largeBytes, headers);

      expect((await store.get('raw/orders/m-1'))?.bytes).toEqual(largeBytes);
      expect(store.listDatabaseNames()).toEqual([]);
    });

    it('delete removes row and file', async () => {
      await store.put('raw/orders/m-1', largeBytes, headers);
      await store.put('raw/orders/m-1', smallBytes, headers);

      expect(await store.delete('raw/orders/m-1')).toBe(true);

      expect(await store.exists('raw/orders/m-1')).toBe(false);
      expect(await store.get('raw/orders/m-1')).toBeUndefined();
    });

    it('file written by the file store alone is read', async () => {
      await new FilePayloadStore(fileFolder).put('raw/orders/older', smallBytes, headers);

      const stored = await store.get('raw/orders/older');

      expect(stored).toMatchObject({ bytes: smallBytes, contentType: 'text/plain', sha256: sha256Of(smallBytes) });
      expect(await store.exists('raw/orders/older')).toBe(true);
    });

    it('concurrent puts are all stored', async () => {
      const names = Array.from({ length: 200 }, (_unused, index) => `raw/orders/m-${String(index).padStart(3, '0')}`);

      const digests = await Promise.all(names.map((name) => store.put(name, Buffer.from(name), headers)));

      expect(digests.map((digest) => digest.sha256)).toEqual(names.map((name) => sha256Of(Buffer.from(name))));
      expect(store.listDatabaseNames()).toEqual(names);
    });

    it('put survives reopening', async () => {
      await store.put('raw/orders/m-1', smallBytes, headers);
      store.close();

      store = new LocalPayloadStore(dataFolder, fileFolder, { inlineLimitInBytes });

      expect((await store.get('raw/orders/m-1'))?.bytes).toEqual(smallBytes);
    });

    it('damaged row is reported as corrupt', async () => {
      await store.put('raw/orders/m-1', smallBytes, headers);
      const db = new Database(join(dataFolder, localPayloadDatabaseFileName));
      db.prepare('UPDATE payloads SET bytes = ? WHERE name = ?').run(Buffer.from('changed bytes'), 'raw/orders/m-1');
      db.close();

      const read = store.get('raw/orders/m-1');

      await expect(read).rejects.toThrow(PermanentError);
      await expect(read).rejects.toThrow('is corrupt');
    });

    it('database file is in the data folder', async () => {
      await store.put('raw/orders/m-1', smallBytes, headers);

      expect(await readdir(dataFolder)).toContain(localPayloadDatabaseFileName);
    });
  });

  it('missing data folder fails with the path', async () => {
    const missingParent = join(rootFolder, 'missing', 'deeper');

    expect(() => new LocalPayloadStore(missingParent, join(missingParent, 'payloads'))).toThrow(missingParent);
  });
});
