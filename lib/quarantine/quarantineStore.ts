import type Database from 'better-sqlite3';
import type { SchemaError } from '../config/payloadSchema';
import type { SqliteWriter } from '../sqlite/sqliteWriter';
import type { QuarantineStorePort } from './QuarantineStorePort';
import type { NewQuarantinedPayload, QuarantinedPayload, QuarantineState } from './types';

interface QuarantineRow {
  quarantine_id: string;
  connector_id: string;
  received_at: string;
  reason: string;
  errors: string;
  payload_blob_name: string;
  size_in_bytes: number;
  sha256: string;
  content_type: string;
  content_encoding: string | null;
  dedup_key: string | null;
  state: QuarantineState;
  released_at: string | null;
  message_id: string | null;
}

export interface QuarantineQuery {
  connectorId?: string;
  /** Maximum number of entries returned. */
  top: number;
}

/**
 * The `quarantine` table of the tracking database. The TrackingStore opens that database and
 * creates the table, and this class shares its connection.
 */
export class QuarantineStore implements QuarantineStorePort {
  /** `writer` is the TrackingStore, which owns the connection and its group commit. */
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  /**
   * Inserts a quarantined payload unless one with the same id exists. Returns true when it
   * was inserted, and false for a repeat of a payload that is already quarantined or released.
   */
  async insert(payload: NewQuarantinedPayload): Promise<boolean> {
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO quarantine
         (quarantine_id, connector_id, received_at, reason, errors, payload_blob_name, size_in_bytes, sha256,
          content_type, content_encoding, dedup_key, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'quarantined')`,
    );
    const result = await this.writer.write(() =>
      insert.run(
        payload.quarantineId,
        payload.connectorId,
        payload.receivedAt,
        payload.reason,
        JSON.stringify(payload.errors),
        payload.payloadBlobName,
        payload.sizeInBytes,
        payload.sha256,
        payload.contentType,
        payload.contentEncoding ?? null,
        payload.dedupKey ?? null,
      ),
    );
    return result.changes === 1;
  }

  async get(quarantineId: string): Promise<QuarantinedPayload | undefined> {
    const row = this.db.prepare(`SELECT * FROM quarantine WHERE quarantine_id = ?`).get(quarantineId) as QuarantineRow | undefined;
    return row === undefined ? undefined : toQuarantinedPayload(row);
  }

  /** Returns up to `query.top` entries, of one connector when `query.connectorId` is set, newest first. */
  async list(query: QuarantineQuery): Promise<QuarantinedPayload[]> {
    const rows =
      query.connectorId === undefined
        ? this.db.prepare(`SELECT * FROM quarantine ORDER BY received_at DESC, quarantine_id LIMIT ?`).all(query.top)
        : this.db
            .prepare(`SELECT * FROM quarantine WHERE connector_id = ? ORDER BY received_at DESC, quarantine_id LIMIT ?`)
            .all(query.connectorId, query.top);
    return (rows as QuarantineRow[]).map(toQuarantinedPayload);
  }

  /**
   * Marks a quarantined payload released as `messageId`. Returns false when it is unknown or
   * was already released, for example by a concurrent release request.
   */
  async markReleased(quarantineId: string, messageId: string, releasedAt: Date): Promise<boolean> {
    const result = await this.writer.write(() =>
      this.db
        .prepare(`UPDATE quarantine SET state = 'released', released_at = ?, message_id = ? WHERE quarantine_id = ? AND state = 'quarantined'`)
        .run(releasedAt.toISOString(), messageId, quarantineId),
    );
    return result.changes === 1;
  }
}

function toQuarantinedPayload(row: QuarantineRow): QuarantinedPayload {
  const payload: QuarantinedPayload = {
    quarantineId: row.quarantine_id,
    connectorId: row.connector_id,
    receivedAt: row.received_at,
    reason: row.reason,
    errors: JSON.parse(row.errors) as SchemaError[],
    payloadBlobName: row.payload_blob_name,
    sizeInBytes: row.size_in_bytes,
    sha256: row.sha256,
    contentType: row.content_type,
    state: row.state,
  };
  if (row.content_encoding !== null) payload.contentEncoding = row.content_encoding;
  if (row.dedup_key !== null) payload.dedupKey = row.dedup_key;
  if (row.released_at !== null) payload.releasedAt = row.released_at;
  if (row.message_id !== null) payload.messageId = row.message_id;
  return payload;
}
