import fs from 'node:fs';

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
  readonly #walFile: KeptOpenFile | undefined;

  /**
   * `flushFile` fdatasyncs a file. Tests pass their own to count or hold the flushes. Without
   * it, the WAL file stays open between flushes and is closed after a second without one.
   */
  constructor(databasePath: string, flushFile?: (filePath: string) => Promise<void>) {
    this.#walPath = `${databasePath}-wal`;
    if (flushFile === undefined) {
      const walFile = new KeptOpenFile(this.#walPath);
      this.#walFile = walFile;
      this.#flushFile = () => walFile.datasync();
    } else {
      this.#flushFile = flushFile;
    }
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

  /** Closes the WAL file if it is open. Call it when the database closes; a later `sync` opens the file again. */
  close(): void {
    this.#walFile?.close();
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

/** Time without a flush after which a kept-open WAL file is closed. */
const idleCloseAfterInMilliseconds = 1_000;

/**
 * A file that is opened at its first fdatasync and kept open for the next ones, because in CPU
 * profiles of the host, opening and closing it around each flush took more time than the flush.
 * It is closed after a second without a flush, so that an idle database keeps no extra handle.
 * WalSync runs one flush at a time, and a close waits for the running flush, so a flush never
 * meets a closed or reused descriptor.
 */
class KeptOpenFile {
  readonly #filePath: string;
  #fd: number | undefined;
  #flushing = false;
  #closeAfterFlush = false;
  #usedSinceCheck = false;
  #idleCheck: NodeJS.Timeout | undefined;

  constructor(filePath: string) {
    this.#filePath = filePath;
  }

  async datasync(): Promise<void> {
    this.#flushing = true;
    this.#usedSinceCheck = true;
    try {
      if (this.#fd === undefined) {
        try {
          this.#fd = await openForWriting(this.#filePath);
        } catch (error) {
          // No WAL file: SQLite has checkpointed it into the database file, synced that file and
          // removed the WAL, so every commit is already on disk.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            return;
          }
          throw error;
        }
        this.#idleCheck = setInterval(() => this.#closeWhenIdle(), idleCloseAfterInMilliseconds);
        this.#idleCheck.unref();
      }
      const fd = this.#fd;
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
    } finally {
      this.#flushing = false;
      if (this.#closeAfterFlush) {
        this.close();
      }
    }
  }

  close(): void {
    if (this.#flushing) {
      this.#closeAfterFlush = true;
      return;
    }
    this.#closeAfterFlush = false;
    clearInterval(this.#idleCheck);
    this.#idleCheck = undefined;
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd !== undefined) {
      fs.close(fd, () => undefined);
    }
  }

  #closeWhenIdle(): void {
    if (!this.#usedSinceCheck && !this.#flushing) {
      this.close();
    }
    this.#usedSinceCheck = false;
  }
}

function openForWriting(filePath: string): Promise<number> {
  // Opened for writing, because Windows flushes only a handle with write access.
  return new Promise((resolve, reject) => fs.open(filePath, 'r+', (error, fd) => (error ? reject(error) : resolve(fd))));
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
