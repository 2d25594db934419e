import type { MessagePosition } from '../messageFilter';
import type { BulkReplayFilter, BulkReplayItem, BulkReplayRecord, NewBulkReplay } from '../replayStore';
import type { ReplayStorePort } from '../ReplayStorePort';
import type { SqlDatabase } from './sqlDatabase';
import { buildSqlMessageFilter, type SqlFilter } from './sqlMessageFilter';
import { float, fromUtcTime, insertUnlessExists, integer, text, utcTime } from './sqlQuery';
import { toBulkReplayItem, toBulkReplayRecord } from './sqlRows';

/**
 * Builds the conditions of a bulk replay's selection: the messages that match `filter` and have
 * not been replayed yet, as the SQLite ReplayStore selects them.
 */
function buildBulkReplayFilter(filter: BulkReplayFilter): SqlFilter {
  const sql = buildSqlMessageFilter(filter);
  sql.conditions.push('NOT EXISTS (SELECT 1 FROM dbo.messages r WHERE r.replay_of = m.message_id)');
  return sql;
}

/** Bulk replays and the messages each one handled, in the `replays` and `replay_items` tables of Azure SQL. */
export class SqlReplayStore implements ReplayStorePort {
  constructor(private readonly database: SqlDatabase) {}

  async previewMatching(filter: BulkReplayFilter, sampleSize: number): Promise<{ total: number; messageIds: string[] }> {
    const { conditions, parameters } = buildBulkReplayFilter(filter);
    const where = conditions.join(' AND ');
    const counted = await this.database.query('previewMatching', `SELECT COUNT(*) AS total FROM dbo.messages m WHERE ${where}`, parameters);
    const sample = await this.database.query(
      'previewMatching',
      `SELECT TOP (@sampleSize) m.message_id FROM dbo.messages m WHERE ${where} ORDER BY m.received_at, m.message_id`,
      [...parameters, integer('sampleSize', sampleSize)],
    );
    return { total: Number(counted.rows[0]?.total ?? 0), messageIds: sample.rows.map((row) => String(row.message_id)) };
  }

  /** Stores a new running bulk replay with the count and the newest of the messages that match now, in one transaction. */
  async createBulkReplay(replay: NewBulkReplay): Promise<BulkReplayRecord> {
    const { conditions, parameters } = buildBulkReplayFilter(replay.filter);
    const where = conditions.join(' AND ');
    await this.database.transaction('createBulkReplay', async (run) => {
      const counted = await run(`SELECT COUNT(*) AS total FROM dbo.messages m WHERE ${where}`, parameters);
      const newest = await run(`SELECT TOP (1) m.received_at, m.message_id FROM dbo.messages m WHERE ${where} ORDER BY m.received_at DESC, m.message_id DESC`, parameters);
      const newestRow = newest.rows[0];
      await run(
        `INSERT INTO dbo.replays (replay_id, state, filter, reason, operator, retransform, destination_ids, requests_per_second,
           upper_received_at, upper_message_id, total, created_at, updated_at)
         VALUES (@replayId, N'running', @filter, @reason, @operator, @retransform, @destinationIds, @requestsPerSecond,
           @upperReceivedAt, @upperMessageId, @total, @createdAt, @createdAt)`,
        [
          text('replayId', replay.replayId),
          text('filter', JSON.stringify(replay.filter)),
          text('reason', replay.reason),
          text('operator', replay.operator),
          integer('retransform', replay.retransform ? 1 : 0),
          text('destinationIds', replay.destinationIds === undefined ? undefined : JSON.stringify(replay.destinationIds)),
          float('requestsPerSecond', replay.requestsPerSecond),
          utcTime('upperReceivedAt', fromUtcTime(newestRow?.received_at)),
          text('upperMessageId', newestRow === undefined ? undefined : String(newestRow.message_id)),
          integer('total', Number(counted.rows[0]?.total ?? 0)),
          utcTime('createdAt', replay.createdAt),
        ],
      );
    });
    return this.requireBulkReplay(replay.replayId);
  }

  async getBulkReplay(replayId: string): Promise<BulkReplayRecord | undefined> {
    const { rows } = await this.database.query('getBulkReplay', 'SELECT * FROM dbo.replays WHERE replay_id = @replayId', [text('replayId', replayId)]);
    return rows[0] === undefined ? undefined : toBulkReplayRecord(rows[0]);
  }

  /** Returns the positions of up to `limit` messages after the replay's position and not after its upper bound, oldest first. */
  async takeNextPage(replayId: string, limit: number): Promise<MessagePosition[]> {
    const replay = await this.requireBulkReplay(replayId);
    if (replay.upperBound === undefined) {
      return [];
    }
    const { conditions, parameters } = buildBulkReplayFilter(replay.filter);
    conditions.push('(m.received_at < @upperReceivedAt OR (m.received_at = @upperReceivedAt AND m.message_id <= @upperMessageId))');
    parameters.push(utcTime('upperReceivedAt', replay.upperBound.receivedAt), text('upperMessageId', replay.upperBound.messageId));
    if (replay.position !== undefined) {
      conditions.push('(m.received_at > @positionReceivedAt OR (m.received_at = @positionReceivedAt AND m.message_id > @positionMessageId))');
      parameters.push(utcTime('positionReceivedAt', replay.position.receivedAt), text('positionMessageId', replay.position.messageId));
    }
    conditions.push('NOT EXISTS (SELECT 1 FROM dbo.replay_items i WHERE i.new_message_id = m.message_id AND i.replay_id = @replayId)');
    parameters.push(text('replayId', replayId), integer('limit', limit));
    const { rows } = await this.database.query(
      'takeNextPage',
      `SELECT TOP (@limit) m.received_at, m.message_id FROM dbo.messages m WHERE ${conditions.join(' AND ')} ORDER BY m.received_at, m.message_id`,
      parameters,
    );
    return rows.map((row) => ({ receivedAt: fromUtcTime(row.received_at) as string, messageId: String(row.message_id) }));
  }

  async getItem(replayId: string, originalMessageId: string): Promise<BulkReplayItem | undefined> {
    const { rows } = await this.database.query(
      'getItem',
      'SELECT original_message_id, new_message_id, error, at FROM dbo.replay_items WHERE replay_id = @replayId AND original_message_id = @originalMessageId',
      [text('replayId', replayId), text('originalMessageId', originalMessageId)],
    );
    return rows[0] === undefined ? undefined : toBulkReplayItem(rows[0]);
  }

  /** Records an item and counts it as replayed or failed in one transaction. A repeated item changes nothing. */
  async recordItem(replayId: string, item: BulkReplayItem): Promise<boolean> {
    return this.database.transaction('recordItem', async (run) => {
      const inserted = await insertUnlessExists(() =>
        run(
          `INSERT INTO dbo.replay_items (replay_id, original_message_id, new_message_id, error, at)
           SELECT @replayId, @originalMessageId, @newMessageId, @error, @at
           WHERE NOT EXISTS (SELECT 1 FROM dbo.replay_items WITH (UPDLOCK, HOLDLOCK) WHERE replay_id = @replayId AND original_message_id = @originalMessageId)`,
          [text('replayId', replayId), text('originalMessageId', item.originalMessageId), text('newMessageId', item.newMessageId), text('error', item.error), utcTime('at', item.at)],
        ),
      );
      if (!inserted) {
        return false;
      }
      // The counter name is one of two constants, never a caller's value.
      const counter = item.newMessageId === undefined ? 'failed' : 'replayed';
      await run(`UPDATE dbo.replays SET ${counter} = ${counter} + 1, updated_at = @at WHERE replay_id = @replayId`, [utcTime('at', item.at), text('replayId', replayId)]);
      return true;
    });
  }

  async advancePosition(replayId: string, position: MessagePosition, at: string): Promise<void> {
    await this.database.query(
      'advancePosition',
      'UPDATE dbo.replays SET position_received_at = @receivedAt, position_message_id = @messageId, updated_at = @at WHERE replay_id = @replayId',
      [utcTime('receivedAt', position.receivedAt), text('messageId', position.messageId), utcTime('at', at), text('replayId', replayId)],
    );
  }

  /**
   * Returns the first `limit` items of a replay, replayed or failed. SQLite orders them by rowid,
   * the order of insertion. `replay_items` has no identity column, so this orders by time and id.
   */
  async listItems(replayId: string, replayed: boolean, limit: number): Promise<BulkReplayItem[]> {
    const condition = replayed ? 'new_message_id IS NOT NULL' : 'new_message_id IS NULL';
    const { rows } = await this.database.query(
      'listItems',
      `SELECT TOP (@limit) original_message_id, new_message_id, error, at FROM dbo.replay_items
       WHERE replay_id = @replayId AND ${condition} ORDER BY at, original_message_id`,
      [integer('limit', limit), text('replayId', replayId)],
    );
    return rows.map(toBulkReplayItem);
  }

  async finishBulkReplay(replayId: string, state: 'completed' | 'failed', at: string, error?: string): Promise<boolean> {
    const result = await this.database.query(
      'finishBulkReplay',
      `UPDATE dbo.replays SET state = @state, finished_at = @at, updated_at = @at, error = @error WHERE replay_id = @replayId AND state = N'running'`,
      [text('state', state), utcTime('at', at), text('error', error), text('replayId', replayId)],
    );
    return result.rowCount === 1;
  }

  async cancelBulkReplay(replayId: string, reason: string, operator: string, at: string): Promise<boolean> {
    const result = await this.database.query(
      'cancelBulkReplay',
      `UPDATE dbo.replays SET state = N'cancelled', cancel_reason = @reason, cancelled_by = @operator, finished_at = @at, updated_at = @at
       WHERE replay_id = @replayId AND state = N'running'`,
      [text('reason', reason), text('operator', operator), utcTime('at', at), text('replayId', replayId)],
    );
    return result.rowCount === 1;
  }

  private async requireBulkReplay(replayId: string): Promise<BulkReplayRecord> {
    const replay = await this.getBulkReplay(replayId);
    if (replay === undefined) {
      throw new Error(`Bulk replay ${replayId} is not in the tracking store. Start bulk replays with POST /api/replays.`);
    }
    return replay;
  }
}
