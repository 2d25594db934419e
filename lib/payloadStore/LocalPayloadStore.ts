import { join } from 'node:path';

import Database from 'better-sqlite3';

import { PermanentError, RetryableError, errorMessageOf } from '../errors';
import { GroupCommitter } from '../sqlite/groupCommitter';
import { useWalWithAsyncSync, type WalSync } from '../sqlite/walSync';
import { FilePayloadStore } from './FilePayloadStore';
import {
  digestPayload,
  validatePayloadHeaders,
  validatePayloadName,
  type PayloadDigest,
  type PayloadHeaders,
  type PayloadStore,
  type StoredPayload,
} from './PayloadStore';

/** File name of the payload database in the data folder. */
export const localPayloadDatabaseFileName = 'payloads.db';

/** Maximum size of a payload that goes to the database. Larger payloads go to files. */
export const defaultInlinePayloadLimitInBytes = 1_048_576;

/** How long a statement waits for another process that holds the database's write lock. */
const busyTimeoutInMilliseconds = 5_000;

interface PayloadRow {
  content_type: string;
  content_encoding: string | null;
  size_in_bytes: number;
  sha256: string;
  bytes: Buffer;
}

export interface LocalPayloadStoreOptions {
  /** Payloads larger than this many bytes are written as files. Default 1 MiB. */
  inlineLimitInBytes?: number;
}

/**
 * The payload store on the local host: a SQLite database in the data folder for payloads up to
 * 1 MiB, and a `FilePayloadStore` in the `payloads/` subfolder for larger ones.
 *
 * A file per payload costs a file creation, a rename and two fsyncs, which a disk does only a
 * few hundred times a second. Rows instead are group-committed: the writes that arrive in the
 * same event-loop turn share one transaction, and a WalSync flushes them to disk off the main
 * thread, so `put` still resolves only once its payload is on disk.
 *
 * A name has at most one live payload: a row, or else a file. `put` of a small payload writes the
 * row, which hides any older file of that name. `put` of a large one writes the file and then
 * deletes the row. Files written before the database existed are read the same way.
 */
export class LocalPayloadStore implements PayloadStore {
  readonly #db: Database.Database;
  readonly #committer: GroupCommitter;
  readonly #files: FilePayloadStore;
  readonly #inlineLimitInBytes: number;
  readonly #statements: {
    upsert: Database.Statement;
    select: Database.Statement;
    exists: Database.Statement;
    remove: Database.Statement;
    names: Database.Statement;
  };

  constructor(dataFolderPath: string, fileFolderPath: string, options: LocalPayloadStoreOptions = {}) {
    this.#files = new FilePayloadStore(fileFolderPath);
    this.#inlineLimitInBytes = options.inlineLimitInBytes ?? defaultInlinePayloadLimitInBytes;
    const { db, walSync } = openPayloadDatabase(join(dataFolderPath, localPayloadDatabaseFileName));
    this.#db = db;
    this.#committer = new GroupCommitter(db, walSync);
    this.#statements = {
      upsert: this.#db.prepare(
        `INSERT INTO payloads (name, content_type, content_encoding, size_in_bytes, sha256, bytes)
         VALUES (@name, @contentType, @contentEncoding, @sizeInBytes, @sha256, @bytes)
         ON CONFLICT (name) DO UPDATE SET content_type = excluded.content_type, content_encoding = excluded.content_encoding,
           size_in_bytes = excluded.size_in_bytes, sha256 = excluded.sha256, bytes = excluded.bytes`,
      ),
      select: this.#db.prepare('SELECT content_type, content_encoding, size_in_bytes, sha256, bytes FROM payloads WHERE name = ?'),
      exists: this.#db.prepare('SELECT 1 FROM payloads WHERE name = ?').pluck(),
      remove: this.#db.prepare('DELETE FROM payloads WHERE name = ?'),
      names: this.#db.prepare('SELECT name FROM payloads ORDER BY name').pluck(),
    };
  }

  async put(name: string, bytes: Buffer, headers: PayloadHeaders): Promise<PayloadDigest> {
    validatePayloadName(name);
    validatePayloadHeaders(headers);
    if (!Buffer.isBuffer(bytes)) {
      throw new TypeError(`Invalid bytes for payload ${JSON.stringify(name)}: expected a Buffer, got ${typeof bytes}.`);
    }

    if (bytes.length > this.#inlineLimitInBytes) {
      const digest = await this.#files.put(name, bytes, headers);
      await this.#commit(name, () => this.#statements.remove.run(name));
      return digest;
    }

    const digest = digestPayload(bytes);
    const row = { name, contentType: headers.contentType, contentEncoding: headers.contentEncoding ?? null, ...digest, bytes };
    await this.#commit(name, () => this.#statements.upsert.run(row));
    return digest;
  }

  async get(name: string): Promise<StoredPayload | undefined> {
    validatePayloadName(name);
    const row = this.#run(name, 'read', () => this.#statements.select.get(name) as PayloadRow | undefined);
    if (row === undefined) {
      return this.#files.get(name);
    }
    return decodePayloadRow(row, name);
  }

  async exists(name: string): Promise<boolean> {
    validatePayloadName(name);
    if (this.#run(name, 'check', () => this.#statements.exists.get(name) !== undefined)) {
      return true;
    }
    return this.#files.exists(name);
  }

  async delete(name: string): Promise<boolean> {
    validatePayloadName(name);
    let deletedRow = false;
    await this.#commit(name, () => {
      deletedRow = this.#statements.remove.run(name).changes > 0;
    });
    const deletedFile = await this.#files.delete(name);
    return deletedRow || deletedFile;
  }

  /** Names of the payloads kept in the database, sorted. Files are not listed. */
  listDatabaseNames(): string[] {
    return this.#statements.names.all() as string[];
  }

  close(): void {
    this.#committer.close();
    this.#db.close();
  }

  async #commit(name: string, work: () => void): Promise<void> {
    try {
      await this.#committer.commit(work);
    } catch (error) {
      throw classifyDatabaseError(`Failed to write payload ${JSON.stringify(name)} to the payload database: ${errorMessageOf(error)}.`, error);
    }
  }

  #run<T>(name: string, action: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw classifyDatabaseError(`Failed to ${action} payload ${JSON.stringify(name)} in the payload database: ${errorMessageOf(error)}.`, error);
    }
  }
}

function openPayloadDatabase(filePath: string): { db: Database.Database; walSync: WalSync | undefined } {
  const failure = (error: unknown): Error =>
    classifyDatabaseError(`Failed to open the payload database ${filePath}: ${errorMessageOf(error)}. Check that the data folder exists and is writable.`, error);
  let db: Database.Database;
  try {
    db = new Database(filePath, { timeout: busyTimeoutInMilliseconds });
  } catch (error) {
    throw failure(error);
  }
  let walSync: WalSync | undefined;
  try {
    // A payload that `put` reported as written must survive a power cut: the group commit
    // resolves a put only once the WalSync has flushed it.
    walSync = useWalWithAsyncSync(db);
    db.exec(`CREATE TABLE IF NOT EXISTS payloads (
      name TEXT PRIMARY KEY,
      content_type TEXT NOT NULL,
      content_encoding TEXT,
      size_in_bytes INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      bytes BLOB NOT NULL
    ) WITHOUT ROWID`);
  } catch (error) {
    db.close();
    throw failure(error);
  }
  return { db, walSync };
}

/** Checks a row against its stored size and SHA-256, so a damaged database is reported, never served. */
function decodePayloadRow(row: PayloadRow, name: string): StoredPayload {
  const digest = digestPayload(row.bytes);
  if (digest.sizeInBytes !== row.size_in_bytes || digest.sha256 !== row.sha256) {
    throw new PermanentError(
      `Payload ${JSON.stringify(name)} in the payload database is corrupt: it has ${digest.sizeInBytes} bytes with SHA-256 ${digest.sha256}, ` +
        `expected ${row.size_in_bytes} bytes with SHA-256 ${row.sha256}. Delete the payload and ask the sender to resend it.`,
    );
  }
  const payload: StoredPayload = { bytes: row.bytes, contentType: row.content_type, ...digest };
  if (row.content_encoding !== null) {
    payload.contentEncoding = row.content_encoding;
  }
  return payload;
}

// SQLite result codes that may pass later: a full disk, a lock held too long, an I/O error.
const retryableDatabaseCodes = /^SQLITE_(FULL|BUSY|LOCKED|IOERR)/;

function classifyDatabaseError(message: string, error: unknown): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && retryableDatabaseCodes.test(code)) {
    return new RetryableError(message, { cause: error });
  }
  return new PermanentError(message, { cause: error });
}
