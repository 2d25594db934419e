import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { GroupCommitter } from '../../lib/sqlite/groupCommitter';
import { useWalWithAsyncSync, WalSync } from '../../lib/sqlite/walSync';

let folder: string;
let db: Database.Database;

beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
  db = new Database(path.join(folder, 'test.db'));
  db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)');
});

afterEach(() => {
  if (db.open) {
    db.close();
  }
  fs.rmSync(folder, { recursive: true, force: true });
});

/** Creates a WalSync whose flushes the test counts and finishes by hand. */
function manualWalSync(): { walSync: WalSync; flushes: Array<() => void> } {
  const flushes: Array<() => void> = [];
  const walSync = new WalSync('unused.db', () => new Promise<void>((resolve) => flushes.push(resolve)));
  return { walSync, flushes };
}

async function nextTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('group commit', () => {
  it('concurrent writes commit with their results', async () => {
    const committer = new GroupCommitter(db);

    const ids = await Promise.all(['a', 'b', 'c'].map((value) => committer.commit(() => Number(db.prepare('INSERT INTO rows (value) VALUES (?)').run(value).lastInsertRowid))));

    expect(ids).toEqual([1, 2, 3]);
    expect(db.prepare('SELECT value FROM rows ORDER BY id').pluck().all()).toEqual(['a', 'b', 'c']);
  });

  it('failed write is rolled back alone', async () => {
    const committer = new GroupCommitter(db);

    const results = await Promise.allSettled([
      committer.commit(() => db.prepare('INSERT INTO rows (value) VALUES (?)').run('kept')),
      committer.commit(() => {
        db.prepare('INSERT INTO rows (value) VALUES (?)').run('rolled back');
        throw new Error('write refused');
      }),
    ]);

    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
    expect(db.prepare('SELECT value FROM rows').pluck().all()).toEqual(['kept']);
  });

  it('commit holds the write lock from its start', async () => {
    db.pragma('journal_mode = WAL');
    const other = new Database(path.join(folder, 'test.db'), { timeout: 0 });
    const committer = new GroupCommitter(db);

    // A deferred transaction that has only read would let the other connection write here.
    const otherWrite = await committer.commit(() => {
      db.prepare('SELECT count(*) FROM rows').get();
      try {
        other.prepare("INSERT INTO rows (value) VALUES ('other')").run();
        return 'written';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    });
    other.close();

    expect(otherWrite).toBe('SQLITE_BUSY');
  });

  it('write resolves only after the WAL sync', async () => {
    useWalWithAsyncSync(db);
    const { walSync, flushes } = manualWalSync();
    const committer = new GroupCommitter(db, walSync);
    let resolved = false;

    const write = committer.commit(() => db.prepare('INSERT INTO rows (value) VALUES (?)').run('a')).then(() => (resolved = true));
    await nextTurn();
    await nextTurn();

    expect(db.prepare('SELECT COUNT(*) FROM rows').pluck().get()).toBe(1);
    expect(resolved).toBe(false);
    flushes[0]();
    await write;
    expect(resolved).toBe(true);
  });
});

describe('WAL sync', () => {
  it('database runs with synchronous NORMAL in WAL mode', () => {
    useWalWithAsyncSync(db);

    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // 1 is NORMAL.
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
  });

  it('in-memory database gets no sync', () => {
    const memory = new Database(':memory:');

    expect(useWalWithAsyncSync(memory)).toBeUndefined();
    memory.close();
  });

  it('syncs during a flush share the next flush', async () => {
    const { walSync, flushes } = manualWalSync();

    const first = walSync.sync();
    const waiting = Array.from({ length: 50 }, () => walSync.sync());
    expect(flushes).toHaveLength(1);
    flushes[0]();
    await first;
    await nextTurn();

    expect(flushes).toHaveLength(2);
    flushes[1]();
    await Promise.all(waiting);
  });

  it('sync waits for a flush that starts after it', async () => {
    const { walSync, flushes } = manualWalSync();
    void walSync.sync();
    let later = false;

    const afterRunningFlush = walSync.sync().then(() => (later = true));
    flushes[0]();
    await nextTurn();

    expect(later).toBe(false);
    flushes[1]();
    await afterRunningFlush;
    expect(later).toBe(true);
  });

  it('sync flushes the WAL file of the database', async () => {
    const flushed: string[] = [];
    const walSync = new WalSync(db.name, async (filePath) => void flushed.push(filePath));

    await walSync.sync();

    expect(flushed).toEqual([`${db.name}-wal`]);
  });

  it('sync of a written WAL file resolves', async () => {
    const walSync = useWalWithAsyncSync(db) as WalSync;
    db.prepare('INSERT INTO rows (value) VALUES (?)').run('a');

    await expect(walSync.sync()).resolves.toBeUndefined();
  });

  it('sync without a WAL file resolves', async () => {
    const walSync = new WalSync(path.join(folder, 'never-created.db'));

    await expect(walSync.sync()).resolves.toBeUndefined();
  });

  it('sync of an impossible WAL path fails', async () => {
    // The database file is not a folder, so the WAL path under it cannot be opened.
    const walSync = new WalSync(path.join(folder, 'test.db', 'nested.db'));

    await expect(walSync.sync()).rejects.toThrow();
  });
});

/** Counts this process's open descriptors of `filePath`, read from /proc/self/fd. */
function openHandlesOf(filePath: string): number {
  return openDescriptorsOf(filePath) - sqliteOwnHandles;
}

/** SQLite's own descriptors of the WAL file, which the counts leave out. */
const sqliteOwnHandles = 1;

function openDescriptorsOf(filePath: string): number {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === filePath;
    } catch {
      return false;
    }
  }).length;
}

describe.runIf(process.platform === 'linux')('WAL file handle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('SQLite keeps one WAL descriptor', () => {
    useWalWithAsyncSync(db);
    db.prepare('INSERT INTO rows (value) VALUES (?)').run('a');

    expect(openDescriptorsOf(`${db.name}-wal`)).toBe(sqliteOwnHandles);
  });

  it('handle stays open between syncs', async () => {
    const walSync = useWalWithAsyncSync(db) as WalSync;
    const insert = db.prepare('INSERT INTO rows (value) VALUES (?)');

    insert.run('a');
    await walSync.sync();
    insert.run('b');
    await walSync.sync();

    expect(openHandlesOf(`${db.name}-wal`)).toBe(1);
    walSync.close();
  });

  it('handle closes after an idle second', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const walSync = useWalWithAsyncSync(db) as WalSync;
    db.prepare('INSERT INTO rows (value) VALUES (?)').run('a');
    await walSync.sync();

    vi.advanceTimersByTime(1_000);
    expect(openHandlesOf(`${db.name}-wal`)).toBe(1);
    vi.advanceTimersByTime(1_000);
    // fs.close finishes on the thread pool.
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(openHandlesOf(`${db.name}-wal`)).toBe(0);
  });

  it('handle reopens after a close', async () => {
    const walSync = useWalWithAsyncSync(db) as WalSync;
    const insert = db.prepare('INSERT INTO rows (value) VALUES (?)');
    insert.run('a');
    await walSync.sync();
    walSync.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(openHandlesOf(`${db.name}-wal`)).toBe(0);

    insert.run('b');
    await walSync.sync();

    expect(openHandlesOf(`${db.name}-wal`)).toBe(1);
    walSync.close();
  });

  it('close during a sync waits for it', async () => {
    const walSync = useWalWithAsyncSync(db) as WalSync;
    db.prepare('INSERT INTO rows (value) VALUES (?)').run('a');

    const sync = walSync.sync();
    walSync.close();

    await expect(sync).resolves.toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(openHandlesOf(`${db.name}-wal`)).toBe(0);
  });

  it('closed committer releases the handle', async () => {
    const walSync = useWalWithAsyncSync(db) as WalSync;
    const committer = new GroupCommitter(db, walSync);

    const write = committer.commit(() => db.prepare('INSERT INTO rows (value) VALUES (?)').run('a'));
    committer.close();
    await write;
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(openHandlesOf(`${db.name}-wal`)).toBe(0);
    expect(db.prepare('SELECT COUNT(*) AS count FROM rows').get()).toEqual({ count: 1 });
  });
});
