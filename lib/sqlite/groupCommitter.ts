import type Database from 'better-sqlite3';

import type { WalSync } from './walSync';

interface CommitJob {
  work: () => unknown;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Commits the changes that are ready in the same event-loop turn in one transaction, so that
 * many of them share one commit and one flush to disk: durable episodes and activity results, or payload writes. Each
 * change runs in its own savepoint: one that throws is rolled back and reported to its caller
 * alone, and the others commit.
 */
export class GroupCommitter {
  readonly #db: Database.Database;
  readonly #walSync: WalSync | undefined;
  #pending: CommitJob[] = [];
  #scheduled = false;

  /**
   * With `walSync`, the database commits with `synchronous=NORMAL` and a job resolves only once
   * `walSync` has flushed its commit to disk. Without it, the commit itself must be durable.
   */
  constructor(db: Database.Database, walSync?: WalSync) {
    this.#db = db;
    this.#walSync = walSync;
  }

  /** Runs `work` inside the next shared transaction and resolves with its result once that transaction is on disk. */
  commit<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ work, resolve: resolve as (result: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every pending change now. */
  flush(): void {
    this.#scheduled = false;
    const jobs = this.#pending;
    this.#pending = [];
    if (jobs.length === 0) {
      return;
    }
    const failures = new Map<CommitJob, unknown>();
    const results = new Map<CommitJob, unknown>();
    try {
      // IMMEDIATE takes the write lock at BEGIN, waiting out the busy timeout while another
      // connection writes. A deferred transaction that read first would fail at its first write
      // if another connection had committed since its read.
      this.#db
        .transaction(() => {
          for (const job of jobs) {
            try {
              // A nested transaction function runs as a savepoint.
              results.set(job, this.#db.transaction(job.work)());
            } catch (error) {
              failures.set(job, error);
            }
          }
        })
        .immediate();
    } catch (error) {
      jobs.forEach((job) => job.reject(error));
      return;
    }
    const settle = (): void => {
      for (const job of jobs) {
        if (failures.has(job)) {
          job.reject(failures.get(job));
        } else {
          job.resolve(results.get(job));
        }
      }
    };
    if (this.#walSync === undefined) {
      settle();
      return;
    }
    this.#walSync.sync().then(settle, (error: unknown) => jobs.forEach((job) => job.reject(error)));
  }

  /**
   * Commits every pending change and closes the WAL file once its last flush is done. Call it
   * before the database closes. The pending changes still become durable.
   */
  close(): void {
    this.flush();
    this.#walSync?.close();
  }

  /** Resolves once every commit made so far, inside or outside this committer, is on disk. */
  async durable(): Promise<void> {
    await this.#walSync?.sync();
  }
}
