import type Database from 'better-sqlite3';

import type { SqliteWriter } from '../sqlite/sqliteWriter';
import { buildMessageFilterSql, type FilterSql, type MessageFilter, type MessagePosition } from './messageFilter';
import type { ReplayStorePort } from './ReplayStorePort';

export type BulkReplayState = 'running' | 'completed' | 'cancelled' | 'failed';

/** The messages a bulk replay selects. Destination ids and outcomes are those of the tracking store. */
export type BulkReplayFilter = Pick<MessageFilter, 'connectorId' | 'destinationId' | 'outcome' | 'receivedFrom' | 'receivedTo'>;

/**
 * Builds the SQL conditions of a bulk replay's selection: the messages that match `filter` and have
 * not been replayed yet. A message that was replayed is left to its newest replay, so that a second
 * bulk replay with the same filter does not deliver it again.
 */
function buildBulkReplayFilterSql(filter: BulkReplayFilter): FilterSql {
  const sql = buildMessageFilterSql(filter);
  sql.conditions.push('NOT EXISTS (SELECT 1 FROM messages r WHERE r.replay_of = m.message_id)');
  return sql;
}

/** A bulk replay as stored. Timestamps are ISO 8601 UTC strings. */
export interface BulkReplayRecord {
  replayId: string;
  state: BulkReplayState;
  filter: BulkReplayFilter;
  reason: string;
  operator: string;
  retransform: boolean;
  /** Destinations of each replay. Absent for all of the connector's destinations. */
  destinationIds?: string[];
  requestsPerSecond: number;
  /** The newest matching message at the start. Messages after it are never replayed. Absent when none matched. */
  upperBound?: MessagePosition;
  /** The last message handled, in oldest-first order. Absent before the first page. */
  position?: MessagePosition;
  /** Messages that matched at the start. */
  total: number;
  replayed: number;
  failed: number;
  createdAt: string;
  updatedAt: string;
  finishedAt?: string;
  cancelReason?: string;
  cancelledBy?: string;
  error?: string;
}

export type NewBulkReplay = Omit<BulkReplayRecord, 'state' | 'upperBound' | 'position' | 'total' | 'replayed' | 'failed' | 'updatedAt' | 'finishedAt'>;

/** One message that a bulk replay handled: the id of its replay, or why it was not replayed. */
export interface BulkReplayItem {
  originalMessageId: string;
  newMessageId?: string;
  error?: string;
  at: string;
}

interface ReplayRow {
  replay_id: string;
  state: BulkReplayState;
  filter: string;
  reason: string;
  operator: string;
  retransform: number;
  destination_ids: string | null;
  requests_per_second: number;
  upper_received_at: string | null;
  upper_message_id: string | null;
  position_received_at: string | null;
  position_message_id: string | null;
  total: number;
  replayed: number;
  failed: number;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  cancel_reason: string | null;
  cancelled_by: string | null;
  error: string | null;
}

interface PositionRow {
  received_at: string;
  message_id: string;
}

/**
 * Bulk replays and the messages each one handled, in the tracking database.
 *
 * NOTE: rows of `replays` and `replay_items` are never deleted. The sweep of messages older
 * than the dedup window leaves them, so they grow with every bulk replay.
 */
export class ReplayStore implements ReplayStorePort {
  /** `writer` is the TrackingStore, which owns the connection and its group commit. */
  constructor(
    private readonly db: Database.Database,
    private readonly writer: SqliteWriter,
  ) {}

  /** Counts the messages that match `filter` now, without storing anything. Returns the count and the oldest ids, up to `sampleSize`. */
  async previewMatching(filter: BulkReplayFilter, sampleSize: number): Promise<{ total: number; messageIds: string[] }> {
    const { conditions, parameters } = buildBulkReplayFilterSql(filter);
    const where = conditions.join(' AND ');
    const { count } = this.db.prepare(`SELECT COUNT(*) AS count FROM messages m WHERE ${where}`).get(...parameters) as { count: number };
    const rows = this.db
      .prepare(`SELECT m.message_id FROM messages m WHERE ${where} ORDER BY m.received_at, m.message_id LIMIT ?`)
      .all(...parameters, sampleSize) as Array<{ message_id: string }>;
    return { total: count, messageIds: rows.map((row) => row.message_id) };
  }

  /**
   * Stores a new running bulk replay and fixes the set of messages it replays: those that match
   * its filter now, up to the newest of them. Returns the stored record.
   */
  async createBulkReplay(replay: NewBulkReplay): Promise<BulkReplayRecord> {
    return this.writer.write((): BulkReplayRecord => {
      const { conditions, parameters } = buildBulkReplayFilterSql(replay.filter);
      const where = conditions.join(' AND ');
      const { count } = this.db.prepare(`SELECT COUNT(*) AS count FROM messages m WHERE ${where}`).get(...parameters) as { count: number };
      const newest = this.db
        .prepare(`SELECT m.received_at, m.message_id FROM messages m WHERE ${where} ORDER BY m.received_at DESC, m.message_id DESC LIMIT 1`)
        .get(...parameters) as PositionRow | undefined;
      this.db
        .prepare(
          `INSERT INTO replays (replay_id, state, filter, reason, operator, retransform, destination_ids, requests_per_second,
             upper_received_at, upper_message_id, total, created_at, updated_at)
           VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          replay.replayId,
          JSON.stringify(replay.filter),
          replay.reason,
          replay.operator,
          replay.retransform ? 1 : 0,
          replay.destinationIds === undefined ? null : JSON.stringify(replay.destinationIds),
          replay.requestsPerSecond,
          newest?.received_at ?? null,
          newest?.message_id ?? null,
          count,
          replay.createdAt,
          replay.createdAt,
        );
      return this.requireBulkReplay(replay.replayId);
    });
  }

  async getBulkReplay(replayId: string): Promise<BulkReplayRecord | undefined> {
    return this.findBulkReplay(replayId);
  }

  private findBulkReplay(replayId: string): BulkReplayRecord | undefined {
    const row = this.db.prepare(`SELECT * FROM replays WHERE replay_id = ?`).get(replayId) as ReplayRow | undefined;
    return row === undefined ? undefined : toBulkReplayRecord(row);
  }

  /**
   * Returns the positions of up to `limit` messages after the replay's position, oldest first:
   * those that match its filter, are not after its upper bound and are not replays it created.
   */
  async takeNextPage(replayId: string, limit: number): Promise<MessagePosition[]> {
    const replay = this.requireBulkReplay(replayId);
    if (replay.upperBound === undefined) {
      return [];
    }
    const { conditions, parameters } = buildBulkReplayFilterSql(replay.filter);
    conditions.push('(m.received_at < ? OR (m.received_at = ? AND m.message_id <= ?))');
    parameters.push(replay.upperBound.receivedAt, replay.upperBound.receivedAt, replay.upperBound.messageId);
    if (replay.position !== undefined) {
      conditions.push('(m.received_at > ? OR (m.received_at = ? AND m.message_id > ?))');
      parameters.push(replay.position.receivedAt, replay.position.receivedAt, replay.position.messageId);
    }
    conditions.push(`NOT EXISTS (SELECT 1 FROM replay_items i WHERE i.new_message_id = m.message_id AND i.replay_id = ?)`);
    parameters.push(replayId);
    const rows = this.db
      .prepare(`SELECT m.received_at, m.message_id FROM messages m WHERE ${conditions.join(' AND ')} ORDER BY m.received_at, m.message_id LIMIT ?`)
      .all(...parameters, limit) as PositionRow[];
    return rows.map((row) => ({ receivedAt: row.received_at, messageId: row.message_id }));
  }

  /** Returns the item of a message that the replay already handled, so that a re-run activity does not replay it twice. */
  async getItem(replayId: string, originalMessageId: string): Promise<BulkReplayItem | undefined> {
    const row = this.db
      .prepare(`SELECT original_message_id, new_message_id, error, at FROM replay_items WHERE replay_id = ? AND original_message_id = ?`)
      .get(replayId, originalMessageId) as { original_message_id: string; new_message_id: string | null; error: string | null; at: string } | undefined;
    return row === undefined ? undefined : toItem(row);
  }

  /**
   * Records how the replay handled one message and counts it as replayed or failed. A second
   * record for the same message changes nothing. Returns true when the item was added.
   */
  async recordItem(replayId: string, item: BulkReplayItem): Promise<boolean> {
    return this.writer.write((): boolean => {
      const inserted = this.db
        .prepare(`INSERT OR IGNORE INTO replay_items (replay_id, original_message_id, new_message_id, error, at) VALUES (?, ?, ?, ?, ?)`)
        .run(replayId, item.originalMessageId, item.newMessageId ?? null, item.error ?? null, item.at);
      if (inserted.changes === 0) {
        return false;
      }
      const counter = item.newMessageId === undefined ? 'failed' : 'replayed';
      this.db.prepare(`UPDATE replays SET ${counter} = ${counter} + 1, updated_at = ? WHERE replay_id = ?`).run(item.at, replayId);
      return true;
    });
  }

  /** Moves the replay's position to the last message of a page it handled. */
  async advancePosition(replayId: string, position: MessagePosition, at: string): Promise<void> {
    const update = this.db.prepare(`UPDATE replays SET position_received_at = ?, position_message_id = ?, updated_at = ? WHERE replay_id = ?`);
    await this.writer.write(() => update.run(position.receivedAt, position.messageId, at, replayId));
  }

  /**
   * Returns the first `limit` items of a replay in the order they were handled: those replayed
   * when `replayed` is true, and those that failed otherwise.
   */
  async listItems(replayId: string, replayed: boolean, limit: number): Promise<BulkReplayItem[]> {
    const condition = replayed ? 'new_message_id IS NOT NULL' : 'new_message_id IS NULL';
    const rows = this.db
      .prepare(`SELECT original_message_id, new_message_id, error, at FROM replay_items WHERE replay_id = ? AND ${condition} ORDER BY rowid LIMIT ?`)
      .all(replayId, limit) as Array<{ original_message_id: string; new_message_id: string | null; error: string | null; at: string }>;
    return rows.map(toItem);
  }

  /** Ends a running replay as completed or failed. Returns false when it was no longer running, for example cancelled. */
  async finishBulkReplay(replayId: string, state: 'completed' | 'failed', at: string, error?: string): Promise<boolean> {
    const update = this.db.prepare(`UPDATE replays SET state = ?, finished_at = ?, updated_at = ?, error = ? WHERE replay_id = ? AND state = 'running'`);
    const result = await this.writer.write(() => update.run(state, at, at, error ?? null, replayId));
    return result.changes === 1;
  }

  /** Cancels a running replay. Returns false when it was no longer running. */
  async cancelBulkReplay(replayId: string, reason: string, operator: string, at: string): Promise<boolean> {
    const update = this.db.prepare(
      `UPDATE replays SET state = 'cancelled', cancel_reason = ?, cancelled_by = ?, finished_at = ?, updated_at = ?
       WHERE replay_id = ? AND state = 'running'`,
    );
    const result = await this.writer.write(() => update.run(reason, operator, at, at, replayId));
    return result.changes === 1;
  }

  private requireBulkReplay(replayId: string): BulkReplayRecord {
    const replay = this.findBulkReplay(replayId);
    if (replay === undefined) {
      throw new Error(`Bulk replay ${replayId} is not in the tracking store. Start bulk replays with POST /api/replays.`);
    }
    return replay;
  }
}

function toItem(row: { original_message_id: string; new_message_id: string | null; error: string | null; at: string }): BulkReplayItem {
  const item: BulkReplayItem = { originalMessageId: row.original_message_id, at: row.at };
  if (row.new_message_id !== null) item.newMessageId = row.new_message_id;
  if (row.error !== null) item.error = row.error;
  return item;
}

function toBulkReplayRecord(row: ReplayRow): BulkReplayRecord {
  const replay: BulkReplayRecord = {
    replayId: row.replay_id,
    state: row.state,
    filter: JSON.parse(row.filter) as BulkReplayFilter,
    reason: row.reason,
    operator: row.operator,
    retransform: row.retransform === 1,
    requestsPerSecond: row.requests_per_second,
    total: row.total,
    replayed: row.replayed,
    failed: row.failed,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.destination_ids !== null) replay.destinationIds = JSON.parse(row.destination_ids) as string[];
  if (row.upper_received_at !== null && row.upper_message_id !== null) {
    replay.upperBound = { receivedAt: row.upper_received_at, messageId: row.upper_message_id };
  }
  if (row.position_received_at !== null && row.position_message_id !== null) {
    replay.position = { receivedAt: row.position_received_at, messageId: row.position_message_id };
  }
  if (row.finished_at !== null) replay.finishedAt = row.finished_at;
  if (row.cancel_reason !== null) replay.cancelReason = row.cancel_reason;
  if (row.cancelled_by !== null) replay.cancelledBy = row.cancelled_by;
  if (row.error !== null) replay.error = row.error;
  return replay;
}
