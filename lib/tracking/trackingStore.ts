import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

import { GroupCommitter } from '../sqlite/groupCommitter';
import type { SqliteWriter } from '../sqlite/sqliteWriter';
import { useWalWithAsyncSync } from '../sqlite/walSync';
import { compareVersions, type EntityVersion } from '../transform/compareVersions';
import { listMessageRows, type MessageListQuery } from './messageList';
import { ReplayStore } from './replayStore';
import { migrateTrackingSchema } from './schema';
import type { TrackingStorePort } from './TrackingStorePort';
import type {
  AcceptedPayload,
  AttemptRecord,
  AuditEntry,
  ChangePage,
  ClaimRequest,
  ClaimResult,
  DeliveryRecord,
  EntityChange,
  EntityStateMirror,
  NewAuditEntry,
  MessageEntity,
  MessageOutcome,
  MessageRecord,
  MirrorResult,
} from './types';

export const trackingDatabaseFileName = 'tracking.db';

/** Maximum time in ms that a statement waits for another connection's write lock. */
const busyTimeoutInMilliseconds = 5000;

/** A row of the `messages` table. */
export interface MessageRow {
  message_id: string;
  connector_id: string;
  dedup_key_hash: string | null;
  received_at: string;
  raw_blob_name: string | null;
  size_in_bytes: number | null;
  sha256: string | null;
  content_type: string | null;
  content_encoding: string | null;
  claim_state: 'receiving' | 'accepted';
  claim_token: string;
  claimed_at: string;
  entity_type: string | null;
  entity_key: string | null;
  entity_version: EntityVersion | null;
  configuration_version: string | null;
  forwarded_headers: string | null;
  outcome: MessageOutcome | null;
  outcome_reason: string | null;
  completed_at: string | null;
  replay_of: string | null;
}

interface DeliveryRow {
  message_id: string;
  destination_id: string;
  payload_blob_name: string | null;
  outcome: DeliveryRecord['outcome'];
  reason: string | null;
  attempts: number;
  status_code: number | null;
  updated_at: string;
}

interface AttemptRow {
  message_id: string;
  destination_id: string;
  attempt_number: number;
  started_at: string;
  outcome: AttemptRecord['outcome'];
  status_code: number | null;
  error: string | null;
  duration_in_milliseconds: number;
  response_body_start: string | null;
}

interface AuditRow {
  message_id: string;
  at: string;
  step: string;
  step_key: string;
  detail: string;
}

interface EntityChangeRow {
  change_version: number;
  connector_id: string;
  entity_type: string;
  entity_key: string;
  version: EntityVersion | null;
  message_id: string;
  changed_at: string;
  operation: 'upsert';
}

/** Opens (and creates when needed) `<dataDir>/tracking.db`. */
export function openTrackingStore(dataDir: string): TrackingStore {
  fs.mkdirSync(dataDir, { recursive: true });
  return new TrackingStore(path.join(dataDir, trackingDatabaseFileName));
}

/**
 * Messages, delivery attempts, the audit trail and mirrored entity state, in SQLite.
 *
 * Each write resolves only once it is committed and on disk. The ingest trigger acknowledges a
 * message with 202 only after its claim is committed, and that acknowledgement must survive a
 * power loss. The writes that arrive in the same event-loop turn are group-committed: one
 * transaction, with a savepoint for each write. The database runs in WAL mode with
 * `synchronous=NORMAL`, and a WalSync flushes the commits to disk off the main thread.
 */
export class TrackingStore implements TrackingStorePort, SqliteWriter {
  readonly db: Database.Database;
  /** Bulk replays, in the same database. */
  readonly replays: ReplayStore;

  readonly #committer: GroupCommitter;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(filePath: string) {
    this.db = new Database(filePath);
    const walSync = useWalWithAsyncSync(this.db);
    this.db.pragma(`busy_timeout = ${busyTimeoutInMilliseconds}`);
    migrateTrackingSchema(this.db);
    this.#committer = new GroupCommitter(this.db, walSync);
    this.replays = new ReplayStore(this.db, this);
  }

  close(): void {
    this.#committer.close();
    this.db.close();
  }

  async ping(): Promise<void> {
    this.statement('SELECT 1').get();
  }

  /**
   * Claims a message id for one ingest request with an atomic INSERT OR IGNORE.
   * Returns `claimed` when this request owns the message, and `exists` with the stored
   * row when another request claimed it first. A `receiving` claim older than
   * `takeOverReceivingAfterInMilliseconds` is taken over by compare-and-set on its claim
   * token, so a crash between claim and start does not block the message forever.
   */
  async claimMessage(request: ClaimRequest): Promise<ClaimResult> {
    return this.write(() => {
      const now = request.now.toISOString();
      const inserted = this.statement(
        `INSERT OR IGNORE INTO messages (message_id, connector_id, dedup_key_hash, received_at, claim_state, claim_token, claimed_at)
         VALUES (?, ?, ?, ?, 'receiving', ?, ?)`,
      ).run(request.messageId, request.connectorId, request.dedupKeyHash ?? null, now, request.claimToken, now);
      if (inserted.changes === 1) {
        return { status: 'claimed', takenOver: false, message: this.requireMessage(request.messageId) };
      }

      const existing = this.requireMessage(request.messageId);
      if (!this.isAbandonedClaim(existing, request)) {
        return { status: 'exists', message: existing };
      }

      const takenOver = this.statement(
        `UPDATE messages SET claim_token = ?, claimed_at = ?, received_at = ?
         WHERE message_id = ? AND claim_state = 'receiving' AND claim_token = ?`,
      ).run(request.claimToken, now, now, request.messageId, existing.claimToken);
      const message = this.requireMessage(request.messageId);
      if (takenOver.changes === 1) {
        return { status: 'claimed', takenOver: true, message };
      }
      return { status: 'exists', message };
    });
  }

  /**
   * Records the stored payload and marks the message accepted, if `claimToken` still owns
   * the claim. Returns false when the claim was released or taken over.
   */
  async markAccepted(messageId: string, claimToken: string, payload: AcceptedPayload): Promise<boolean> {
    return this.write(() => {
      const result = this.statement(
        `UPDATE messages SET claim_state = 'accepted', raw_blob_name = ?, size_in_bytes = ?, sha256 = ?, content_type = ?, content_encoding = ?,
           forwarded_headers = ?
         WHERE message_id = ? AND claim_token = ?`,
      ).run(
        payload.rawBlobName,
        payload.sizeInBytes,
        payload.sha256,
        payload.contentType,
        payload.contentEncoding ?? null,
        payload.forwardedHeaders === undefined ? null : JSON.stringify(payload.forwardedHeaders),
        messageId,
        claimToken,
      );
      return result.changes === 1;
    });
  }

  /**
   * Deletes a `receiving` claim owned by `claimToken`, so that the partner's retry can claim
   * the message again. Returns false when the claim is not owned by the token or is accepted.
   */
  async releaseClaim(messageId: string, claimToken: string): Promise<boolean> {
    return this.write(() => {
      const result = this.statement(`DELETE FROM messages WHERE message_id = ? AND claim_state = 'receiving' AND claim_token = ?`).run(messageId, claimToken);
      return result.changes === 1;
    });
  }

  async getMessage(messageId: string): Promise<MessageRecord | undefined> {
    return this.findMessage(messageId);
  }

  private findMessage(messageId: string): MessageRecord | undefined {
    const row = this.statement(`SELECT * FROM messages WHERE message_id = ?`).get(messageId) as MessageRow | undefined;
    return row === undefined ? undefined : toMessageRecord(row);
  }

  /** Stores the entity that the orchestration read from the message's payload. */
  async setMessageEntity(messageId: string, entity: MessageEntity): Promise<void> {
    return this.write(() => {
      this.statement(`UPDATE messages SET entity_type = ?, entity_key = ?, entity_version = ? WHERE message_id = ?`).run(entity.type, entity.key, entity.version ?? null, messageId);
    });
  }

  /** Records the version of the connector configuration that processes the message. */
  async setConfigurationVersion(messageId: string, configurationVersion: string): Promise<void> {
    return this.write(() => {
      this.statement(`UPDATE messages SET configuration_version = ? WHERE message_id = ?`).run(configurationVersion, messageId);
    });
  }

  /** Sets the final outcome of a message. `completedAt` is an ISO 8601 UTC time. */
  async setMessageOutcome(messageId: string, outcome: MessageOutcome, reason: string | undefined, completedAt: string): Promise<void> {
    return this.write(() => {
      this.statement(`UPDATE messages SET outcome = ?, outcome_reason = ?, completed_at = ? WHERE message_id = ?`).run(outcome, reason ?? null, completedAt, messageId);
    });
  }

  /** Inserts or replaces the delivery of a message to one destination. */
  async upsertDelivery(delivery: DeliveryRecord): Promise<void> {
    return this.write(() => {
      this.statement(
        `INSERT INTO deliveries (message_id, destination_id, payload_blob_name, outcome, reason, attempts, status_code, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (message_id, destination_id) DO UPDATE SET
           payload_blob_name = COALESCE(excluded.payload_blob_name, deliveries.payload_blob_name),
           outcome = excluded.outcome, reason = excluded.reason, attempts = excluded.attempts,
           status_code = excluded.status_code, updated_at = excluded.updated_at`,
      ).run(
        delivery.messageId,
        delivery.destinationId,
        delivery.payloadBlobName ?? null,
        delivery.outcome,
        delivery.reason ?? null,
        delivery.attempts,
        delivery.statusCode ?? null,
        delivery.updatedAt,
      );
    });
  }

  /** Returns the deliveries of a message, ordered by destination id. */
  async listDeliveries(messageId: string): Promise<DeliveryRecord[]> {
    const rows = this.statement(`SELECT * FROM deliveries WHERE message_id = ? ORDER BY destination_id`).all(messageId) as DeliveryRow[];
    return rows.map(toDeliveryRecord);
  }

  /** Inserts or replaces one attempt, so that a re-run of the same attempt does not add a row. */
  async recordAttempt(attempt: AttemptRecord): Promise<void> {
    return this.write(() => {
      this.statement(
        `INSERT OR REPLACE INTO attempts
           (message_id, destination_id, attempt_number, started_at, outcome, status_code, error, duration_in_milliseconds, response_body_start)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        attempt.messageId,
        attempt.destinationId,
        attempt.attemptNumber,
        attempt.startedAt,
        attempt.outcome,
        attempt.statusCode ?? null,
        attempt.error ?? null,
        attempt.durationInMilliseconds,
        attempt.responseBodyStart ?? null,
      );
    });
  }

  /** Returns the attempts of a message, ordered by destination id and attempt number. */
  async listAttempts(messageId: string): Promise<AttemptRecord[]> {
    const rows = this.statement(`SELECT * FROM attempts WHERE message_id = ? ORDER BY destination_id, attempt_number`).all(messageId) as AttemptRow[];
    return rows.map(toAttemptRecord);
  }

  /**
   * Appends an audit entry unless one with the same message id, step and key exists, so an
   * activity that runs again does not add it twice. Returns true when the entry was added.
   */
  async appendAudit(entry: NewAuditEntry): Promise<boolean> {
    return this.write(() => {
      const detail = JSON.stringify(entry.detail, (_key, value: unknown) => (typeof value === 'string' ? this.scrubAuditText(value) : value));
      const result = this.statement(`INSERT OR IGNORE INTO audit (message_id, at, step, step_key, detail) VALUES (?, ?, ?, ?, ?)`).run(entry.messageId, entry.at, entry.step, entry.key ?? '', detail);
      return result.changes === 1;
    });
  }

  /** Replaces secret values in each string of an audit detail before it is written. The default keeps the text. */
  scrubAuditText: (text: string) => string = (text) => text;

  /** Returns the audit trail of a message in the order it was written. */
  async listAudit(messageId: string): Promise<AuditEntry[]> {
    const rows = this.statement(`SELECT message_id, at, step, step_key, detail FROM audit WHERE message_id = ? ORDER BY audit_id`).all(messageId) as AuditRow[];
    return rows.map((row) => ({
      messageId: row.message_id,
      at: row.at,
      step: row.step,
      key: row.step_key,
      detail: JSON.parse(row.detail) as Record<string, unknown>,
    }));
  }

  /**
   * Upserts the entity's state and appends a change row in one transaction, and returns
   * the change version. A message that was already mirrored returns its earlier change
   * version. A version older than the mirrored one changes nothing, because mirror
   * activities of different messages may finish out of order.
   */
  async mirrorEntityState(mirror: EntityStateMirror): Promise<MirrorResult> {
    return this.write((): MirrorResult => {
      const earlierChange = this.statement(
        `SELECT change_version FROM entity_changes
         WHERE connector_id = ? AND entity_type = ? AND entity_key = ? AND message_id = ?`,
      ).get(mirror.connectorId, mirror.entityType, mirror.entityKey, mirror.messageId) as { change_version: number } | undefined;
      if (earlierChange !== undefined) {
        return { applied: true, changeVersion: earlierChange.change_version };
      }

      const current = this.statement(`SELECT version, change_version FROM entity_state WHERE connector_id = ? AND entity_type = ? AND entity_key = ?`).get(mirror.connectorId, mirror.entityType, mirror.entityKey) as
        | { version: EntityVersion | null; change_version: number }
        | undefined;
      if (current !== undefined && isOlder(mirror.version, current.version)) {
        return { applied: false, changeVersion: current.change_version };
      }

      const at = mirror.at.toISOString();
      const version = mirror.version ?? null;
      const change = this.statement(
        `INSERT INTO entity_changes (connector_id, entity_type, entity_key, version, message_id, changed_at, operation)
         VALUES (?, ?, ?, ?, ?, ?, 'upsert')`,
      ).run(mirror.connectorId, mirror.entityType, mirror.entityKey, version, mirror.messageId, at);
      const changeVersion = Number(change.lastInsertRowid);

      this.statement(
        `INSERT INTO entity_state (connector_id, entity_type, entity_key, version, last_message_id, updated_at, change_version)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (connector_id, entity_type, entity_key) DO UPDATE SET
           version = excluded.version, last_message_id = excluded.last_message_id,
           updated_at = excluded.updated_at, change_version = excluded.change_version`,
      ).run(mirror.connectorId, mirror.entityType, mirror.entityKey, version, mirror.messageId, at, changeVersion);
      return { applied: true, changeVersion };
    });
  }

  /** Returns up to `limit` entity changes with a change version greater than `sinceChangeVersion`, oldest first. */
  async listChanges(sinceChangeVersion: number, limit: number): Promise<ChangePage> {
    const rows = this.statement(`SELECT * FROM entity_changes WHERE change_version > ? ORDER BY change_version LIMIT ?`).all(sinceChangeVersion, limit) as EntityChangeRow[];
    const changes = rows.map(toEntityChange);
    const lastChangeVersion = changes.length === 0 ? sinceChangeVersion : changes[changes.length - 1].changeVersion;
    return { changes, lastChangeVersion };
  }

  /**
   * Deletes messages received before `date`, with their attempts and audit entries, so that
   * their dedup keys make new messages again. Entity state and changes are kept.
   * Returns the number of messages deleted.
   */
  async deleteMessagesOlderThan(date: Date): Promise<number> {
    return this.write(() => {
      const cutoff = date.toISOString();
      const expired = `SELECT message_id FROM messages WHERE received_at < ?`;
      this.statement(`DELETE FROM attempts WHERE message_id IN (${expired})`).run(cutoff);
      this.statement(`DELETE FROM audit WHERE message_id IN (${expired})`).run(cutoff);
      this.statement(`DELETE FROM deliveries WHERE message_id IN (${expired})`).run(cutoff);
      return this.statement(`DELETE FROM messages WHERE received_at < ?`).run(cutoff).changes;
    });
  }

  /** Lists accepted messages newest first, as `listMessageRows` does. */
  async listMessages(query: MessageListQuery): Promise<{ messages: MessageRecord[]; continuationToken?: string }> {
    const page = listMessageRows(this.db, query);
    const messages = page.rows.map(toMessageRecord);
    return page.continuationToken === undefined ? { messages } : { messages, continuationToken: page.continuationToken };
  }

  /** Returns the ids of the messages that replay `messageId`, oldest first. */
  async listReplaysOf(messageId: string): Promise<Array<{ messageId: string; receivedAt: string }>> {
    const rows = this.statement(`SELECT message_id, received_at FROM messages WHERE replay_of = ? ORDER BY received_at, message_id`).all(messageId) as Array<{ message_id: string; received_at: string }>;
    return rows.map((row) => ({ messageId: row.message_id, receivedAt: row.received_at }));
  }

  /**
   * Claims `replay.messageId` for a replay of `original`: a `receiving` row with the original's
   * stored bytes and headers, `replay_of` set and no dedup key. Returns the stored row and
   * whether this call inserted it. An existing row is returned unchanged.
   */
  async claimReplayMessage(original: MessageRecord, replay: { messageId: string; claimToken: string; now: Date }): Promise<{ inserted: boolean; message: MessageRecord }> {
    return this.write(() => {
      const now = replay.now.toISOString();
      const inserted = this.statement(
        `INSERT OR IGNORE INTO messages (message_id, connector_id, received_at, raw_blob_name, size_in_bytes, sha256, content_type, content_encoding,
           forwarded_headers, claim_state, claim_token, claimed_at, replay_of)
         SELECT ?, connector_id, ?, raw_blob_name, size_in_bytes, sha256, content_type, content_encoding, forwarded_headers, 'receiving', ?, ?, message_id
         FROM messages WHERE message_id = ?`,
      ).run(replay.messageId, now, replay.claimToken, now, original.messageId);
      return { inserted: inserted.changes === 1, message: this.requireMessage(replay.messageId) };
    });
  }

  /**
   * Runs `work` in the next group commit: the writes of one event-loop turn share one
   * transaction, and each resolves once that transaction is on disk. The quarantine and replay
   * stores write through it too, because they share this connection.
   */
  write<T>(work: () => T): Promise<T> {
    return this.#committer.commit(work);
  }

  /** Returns the prepared statement for `sql`, preparing it on first use. */
  private statement(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  private requireMessage(messageId: string): MessageRecord {
    const message = this.findMessage(messageId);
    if (message === undefined) {
      throw new Error(`Internal error: message ${messageId} was not found right after it was claimed.`);
    }
    return message;
  }

  private isAbandonedClaim(message: MessageRecord, request: ClaimRequest): boolean {
    if (message.claimState !== 'receiving' || request.takeOverReceivingAfterInMilliseconds === undefined) {
      return false;
    }
    const ageInMilliseconds = request.now.getTime() - Date.parse(message.claimedAt);
    return ageInMilliseconds >= request.takeOverReceivingAfterInMilliseconds;
  }
}

/** Returns true when `candidate` is older than `current`. Missing versions are never older. */
function isOlder(candidate: EntityVersion | undefined, current: EntityVersion | null): boolean {
  if (candidate === undefined || current === null) {
    return false;
  }
  return compareVersions(candidate, current) < 0;
}

export function toMessageRecord(row: MessageRow): MessageRecord {
  const message: MessageRecord = {
    messageId: row.message_id,
    connectorId: row.connector_id,
    receivedAt: row.received_at,
    claimState: row.claim_state,
    claimToken: row.claim_token,
    claimedAt: row.claimed_at,
  };
  if (row.dedup_key_hash !== null) message.dedupKeyHash = row.dedup_key_hash;
  if (row.raw_blob_name !== null) message.rawBlobName = row.raw_blob_name;
  if (row.size_in_bytes !== null) message.sizeInBytes = row.size_in_bytes;
  if (row.sha256 !== null) message.sha256 = row.sha256;
  if (row.content_type !== null) message.contentType = row.content_type;
  if (row.content_encoding !== null) message.contentEncoding = row.content_encoding;
  if (row.configuration_version !== null) message.configurationVersion = row.configuration_version;
  if (row.forwarded_headers !== null) message.forwardedHeaders = JSON.parse(row.forwarded_headers) as Record<string, string>;
  if (row.outcome !== null) message.outcome = row.outcome;
  if (row.outcome_reason !== null) message.outcomeReason = row.outcome_reason;
  if (row.completed_at !== null) message.completedAt = row.completed_at;
  if (row.replay_of !== null) message.replayOf = row.replay_of;
  if (row.entity_type !== null && row.entity_key !== null) {
    message.entity = { type: row.entity_type, key: row.entity_key };
    if (row.entity_version !== null) message.entity.version = row.entity_version;
  }
  return message;
}

function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  const delivery: DeliveryRecord = {
    messageId: row.message_id,
    destinationId: row.destination_id,
    outcome: row.outcome,
    attempts: row.attempts,
    updatedAt: row.updated_at,
  };
  if (row.payload_blob_name !== null) delivery.payloadBlobName = row.payload_blob_name;
  if (row.reason !== null) delivery.reason = row.reason;
  if (row.status_code !== null) delivery.statusCode = row.status_code;
  return delivery;
}

function toAttemptRecord(row: AttemptRow): AttemptRecord {
  const attempt: AttemptRecord = {
    messageId: row.message_id,
    destinationId: row.destination_id,
    attemptNumber: row.attempt_number,
    startedAt: row.started_at,
    outcome: row.outcome,
    durationInMilliseconds: row.duration_in_milliseconds,
  };
  if (row.status_code !== null) attempt.statusCode = row.status_code;
  if (row.error !== null) attempt.error = row.error;
  if (row.response_body_start !== null) attempt.responseBodyStart = row.response_body_start;
  return attempt;
}

function toEntityChange(row: EntityChangeRow): EntityChange {
  const change: EntityChange = {
    changeVersion: row.change_version,
    connectorId: row.connector_id,
    entityType: row.entity_type,
    entityKey: row.entity_key,
    messageId: row.message_id,
    changedAt: row.changed_at,
    operation: row.operation,
  };
  if (row.version !== null) change.version = row.version;
  return change;
}
