import { open } from 'node:fs/promises';

import type Database from 'better-sqlite3';

/**
 * Makes the commits of a WAL-mode SQLite database durable off the main thread.
 *
 * With `synchronous=FULL`, every COMMIT fsyncs the WAL file on the thread that commits, which
 * is Node's only JavaScript thread, and commits that follow each other cannot share an fsync.
 * With `synchronous=NORMAL`, a COMMIT only writes the WAL, and SQLite syncs it at checkpoints.
 * `sync` adds the missing step: an fdatasync of the WAL file on libuv's thread pool, which
 * flushes every commit written before it started. A caller that awaits `sync` after its commit
 * gets the durability of FULL, and the commits of many event-loop turns share one fdatasync.
 *
 * A write that is acknowledged to anyone outside the process must await `sync` first.
 */
export class WalSync {
  readonly #walPath: string;
  readonly #flushFile: (filePath: string) => Promise<void>;
  #running = false;
  #next: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;

  /** `flushFile` fdatasyncs a file. Tests pass their own to count or hold the flushes. */
  constructor(databasePath: string, flushFile: (filePath: string) => Promise<void> = syncFile) {
    this.#walPath = `${databasePath}-wal`;
    this.#flushFile = flushFile;
  }

  /** Resolves once every commit made before this call is on disk. */
  sync(): Promise<void> {
    if (!this.#running) {
      return this.#start();
    }
    // The running fdatasync may have started before the caller's commit, so one more follows it.
    if (this.#next === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((resolvePromise, rejectPromise) => {
        resolve = resolvePromise;
        reject = rejectPromise;
      });
      this.#next = { promise, resolve, reject };
    }
    return this.#next.promise;
  }

  #start(): Promise<void> {
    this.#running = true;
    return this.#flushFile(this.#walPath).finally(() => {
      this.#running = false;
      const next = this.#next;
      this.#next = undefined;
      if (next !== undefined) {
        this.#start().then(next.resolve, next.reject);
      }
    });
  }
}

/**
 * Sets WAL mode with `synchronous=NORMAL` on `db` and returns the WalSync that makes its commits
 * durable, or undefined for an in-memory database, which has nothing to sync.
 */
export function useWalWithAsyncSync(db: Database.Database): WalSync | undefined {
  db.pragma('journal_mode = WAL');
  // NORMAL, not FULL: the commit itself does not fsync. Writers await WalSync.sync instead,
  // which fsyncs the WAL off the main thread before the write is acknowledged.
  db.pragma('synchronous = NORMAL');
  return db.memory ? undefined : new WalSync(db.name);
}

async function syncFile(filePath: string): Promise<void> {
  let handle;
  try {
    // Opened for writing, because Windows flushes only a handle with write access.
    handle = await open(filePath, 'r+');
  } catch (error) {
    // No WAL file: SQLite has checkpointed it into the database file, synced that file and
    // removed the WAL, so every commit is already on disk.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return;
    }
    throw error;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
