import { ConfigurationError } from '../../errors';
import { compareVersions, type EntityVersion } from '../../transform/compareVersions';
import { encodeContinuationToken, type MessageListQuery } from '../messageList';
import type { ReplayStorePort } from '../ReplayStorePort';
import type { TrackingStorePort } from '../TrackingStorePort';
import type {
  AcceptedPayload,
  AttemptRecord,
  AuditEntry,
  ChangePage,
  ClaimRequest,
  ClaimResult,
  DeliveryRecord,
  EntityStateMirror,
  MessageEntity,
  MessageOutcome,
  MessageRecord,
  MirrorResult,
  NewAuditEntry,
} from '../types';
import { ChangesExpiredError } from '../types';
import type { SqlDatabase } from './sqlDatabase';
import { buildSqlMessageFilter } from './sqlMessageFilter';
import { bigInteger, entityVersion, fromUtcTime, insertUnlessExists, integer, text, utcTime, type SqlParameter } from './sqlQuery';
import { SqlReplayStore } from './SqlReplayStore';
import { toAttemptRecord, toDeliveryRecord, toEntityChange, toMessageRecord } from './sqlRows';

/**
 * The tracking store on Azure SQL, with the tables of infra/sql/tracking-schema.sql. Each method
 * translates the statement of the SQLite adapter (`TrackingStore`): an insert-if-absent takes a
 * key-range lock with UPDLOCK and HOLDLOCK and treats a duplicate key as "already there", and
 * an upsert is a MERGE with HOLDLOCK. The change feed reads SQL change tracking on entity_state,
 * so its change versions are the database's change tracking versions. The `entity_changes` table
 * keeps each message's change, which is how a repeated message is recognised.
 *
 * NOTE: this adapter has never run against a real Azure SQL database, only through the type
 * checker. Run test/tracking/trackingStore.contract.test.ts with the TRACKING_SQL_TEST_* settings
 * before relying on it.
 */
const changeTrackingOffMessage =
  'Change tracking is off for table dbo.entity_state of the tracking database, so the change feed cannot be read. ' +
  'Apply infra/sql/tracking-schema.sql, which turns it on, as docs/deploy.md describes.';

export class SqlTrackingStore implements TrackingStorePort {
  readonly replays: ReplayStorePort;

  constructor(private readonly database: SqlDatabase) {
    this.replays = new SqlReplayStore(database);
  }

  close(): void {
    this.database.close();
  }

  async ping(): Promise<void> {
    await this.database.query('ping', 'SELECT 1 AS one');
  }

  async claimMessage(request: ClaimRequest): Promise<ClaimResult> {
    const inserted = await insertUnlessExists(() =>
      this.database.query(
        'claimMessage',
        `INSERT INTO dbo.messages (message_id, connector_id, dedup_key_hash, received_at, claim_state, claim_token, claimed_at)
         SELECT @messageId, @connectorId, @dedupKeyHash, @now, N'receiving', @claimToken, @now
         WHERE NOT EXISTS (SELECT 1 FROM dbo.messages WITH (UPDLOCK, HOLDLOCK) WHERE message_id = @messageId)`,
        [text('messageId', request.messageId), text('connectorId', request.connectorId), text('dedupKeyHash', request.dedupKeyHash), utcTime('now', request.now), text('claimToken', request.claimToken)],
      ),
    );
    const existing = await this.requireMessage(request.messageId);
    // A retry after a lost reply to a committed insert finds the row with its own token.
    if (inserted || (existing.claimState === 'receiving' && existing.claimToken === request.claimToken && existing.claimedAt === request.now.toISOString())) {
      return { status: 'claimed', takenOver: false, message: existing };
    }
    if (!isAbandonedClaim(existing, request)) {
      return { status: 'exists', message: existing };
    }

    const takenOver = await this.database.query(
      'claimMessage',
      `UPDATE dbo.messages SET claim_token = @claimToken, claimed_at = @now, received_at = @now
       WHERE message_id = @messageId AND claim_state = N'receiving' AND claim_token = @previousClaimToken`,
      [text('claimToken', request.claimToken), utcTime('now', request.now), text('messageId', request.messageId), text('previousClaimToken', existing.claimToken)],
    );
    const message = await this.requireMessage(request.messageId);
    if (takenOver.rowCount === 1 || message.claimToken === request.claimToken) {
      return { status: 'claimed', takenOver: true, message };
    }
    return { status: 'exists', message };
  }

  async markAccepted(messageId: string, claimToken: string, payload: AcceptedPayload): Promise<boolean> {
    const result = await this.database.query(
      'markAccepted',
      `UPDATE dbo.messages SET claim_state = N'accepted', raw_blob_name = @rawBlobName, size_in_bytes = @sizeInBytes, sha256 = @sha256,
         content_type = @contentType, content_encoding = @contentEncoding, forwarded_headers = @forwardedHeaders
       WHERE message_id = @messageId AND claim_token = @claimToken`,
      [
        text('rawBlobName', payload.rawBlobName),
        bigInteger('sizeInBytes', payload.sizeInBytes),
        text('sha256', payload.sha256),
        text('contentType', payload.contentType),
        text('contentEncoding', payload.contentEncoding),
        text('forwardedHeaders', payload.forwardedHeaders === undefined ? undefined : JSON.stringify(payload.forwardedHeaders)),
        text('messageId', messageId),
        text('claimToken', claimToken),
      ],
    );
    return result.rowCount === 1;
  }

  async releaseClaim(messageId: string, claimToken: string): Promise<boolean> {
    const result = await this.database.query(
      'releaseClaim',
      `DELETE FROM dbo.messages WHERE message_id = @messageId AND claim_state = N'receiving' AND claim_token = @claimToken`,
      [text('messageId', messageId), text('claimToken', claimToken)],
    );
    return result.rowCount === 1;
  }

  async getMessage(messageId: string): Promise<MessageRecord | undefined> {
    const { rows } = await this.database.query('getMessage', 'SELECT * FROM dbo.messages WHERE message_id = @messageId', [text('messageId', messageId)]);
    return rows[0] === undefined ? undefined : toMessageRecord(rows[0]);
  }

  async setMessageEntity(messageId: string, entity: MessageEntity): Promise<void> {
    await this.database.query(
      'setMessageEntity',
      'UPDATE dbo.messages SET entity_type = @entityType, entity_key = @entityKey, entity_version = @entityVersion WHERE message_id = @messageId',
      [text('entityType', entity.type), text('entityKey', entity.key), entityVersion('entityVersion', entity.version), text('messageId', messageId)],
    );
  }

  async setConfigurationVersion(messageId: string, configurationVersion: string): Promise<void> {
    await this.database.query('setConfigurationVersion', 'UPDATE dbo.messages SET configuration_version = @configurationVersion WHERE message_id = @messageId', [
      text('configurationVersion', configurationVersion),
      text('messageId', messageId),
    ]);
  }

  async setMessageOutcome(messageId: string, outcome: MessageOutcome, reason: string | undefined, completedAt: string): Promise<void> {
    await this.database.query(
      'setMessageOutcome',
      'UPDATE dbo.messages SET outcome = @outcome, outcome_reason = @reason, completed_at = @completedAt WHERE message_id = @messageId',
      [text('outcome', outcome), text('reason', reason), utcTime('completedAt', completedAt), text('messageId', messageId)],
    );
  }

  async upsertDelivery(delivery: DeliveryRecord): Promise<void> {
    await this.database.query(
      'upsertDelivery',
      `MERGE dbo.deliveries WITH (HOLDLOCK) AS target
       USING (SELECT @messageId AS message_id, @destinationId AS destination_id) AS source
         ON target.message_id = source.message_id AND target.destination_id = source.destination_id
       WHEN MATCHED THEN UPDATE SET
         payload_blob_name = COALESCE(@payloadBlobName, target.payload_blob_name), outcome = @outcome, reason = @reason,
         attempts = @attempts, status_code = @statusCode, updated_at = @updatedAt
       WHEN NOT MATCHED THEN
         INSERT (message_id, destination_id, payload_blob_name, outcome, reason, attempts, status_code, updated_at)
         VALUES (@messageId, @destinationId, @payloadBlobName, @outcome, @reason, @attempts, @statusCode, @updatedAt);`,
      [
        text('messageId', delivery.messageId),
        text('destinationId', delivery.destinationId),
        text('payloadBlobName', delivery.payloadBlobName),
        text('outcome', delivery.outcome),
        text('reason', delivery.reason),
        integer('attempts', delivery.attempts),
        integer('statusCode', delivery.statusCode),
        utcTime('updatedAt', delivery.updatedAt),
      ],
    );
  }

  async listDeliveries(messageId: string): Promise<DeliveryRecord[]> {
    const { rows } = await this.database.query('listDeliveries', 'SELECT * FROM dbo.deliveries WHERE message_id = @messageId ORDER BY destination_id', [text('messageId', messageId)]);
    return rows.map(toDeliveryRecord);
  }

  async recordAttempt(attempt: AttemptRecord): Promise<void> {
    await this.database.query(
      'recordAttempt',
      `MERGE dbo.attempts WITH (HOLDLOCK) AS target
       USING (SELECT @messageId AS message_id, @destinationId AS destination_id, @attemptNumber AS attempt_number) AS source
         ON target.message_id = source.message_id AND target.destination_id = source.destination_id AND target.attempt_number = source.attempt_number
       WHEN MATCHED THEN UPDATE SET
         started_at = @startedAt, outcome = @outcome, status_code = @statusCode, error = @error,
         duration_in_milliseconds = @durationInMilliseconds, response_body_start = @responseBodyStart
       WHEN NOT MATCHED THEN
         INSERT (message_id, destination_id, attempt_number, started_at, outcome, status_code, error, duration_in_milliseconds, response_body_start)
         VALUES (@messageId, @destinationId, @attemptNumber, @startedAt, @outcome, @statusCode, @error, @durationInMilliseconds, @responseBodyStart);`,
      [
        text('messageId', attempt.messageId),
        text('destinationId', attempt.destinationId),
        integer('attemptNumber', attempt.attemptNumber),
        utcTime('startedAt', attempt.startedAt),
        text('outcome', attempt.outcome),
        integer('statusCode', attempt.statusCode),
        text('error', attempt.error),
        bigInteger('durationInMilliseconds', attempt.durationInMilliseconds),
        text('responseBodyStart', attempt.responseBodyStart),
      ],
    );
  }

  async listAttempts(messageId: string): Promise<AttemptRecord[]> {
    const { rows } = await this.database.query('listAttempts', 'SELECT * FROM dbo.attempts WHERE message_id = @messageId ORDER BY destination_id, attempt_number', [
      text('messageId', messageId),
    ]);
    return rows.map(toAttemptRecord);
  }

  async appendAudit(entry: NewAuditEntry): Promise<boolean> {
    const detail = JSON.stringify(entry.detail, (_key, value: unknown) => (typeof value === 'string' ? this.scrubAuditText(value) : value));
    return insertUnlessExists(() =>
      this.database.query(
        'appendAudit',
        `INSERT INTO dbo.audit (message_id, at, step, step_key, detail)
         SELECT @messageId, @at, @step, @stepKey, @detail
         WHERE NOT EXISTS (SELECT 1 FROM dbo.audit WITH (UPDLOCK, HOLDLOCK) WHERE message_id = @messageId AND step = @step AND step_key = @stepKey)`,
        [text('messageId', entry.messageId), utcTime('at', entry.at), text('step', entry.step), text('stepKey', entry.key ?? ''), text('detail', detail)],
      ),
    );
  }

  /** Replaces secret values in each string of an audit detail before it is written. The default keeps the text. */
  scrubAuditText: (text: string) => string = (value) => value;

  async listAudit(messageId: string): Promise<AuditEntry[]> {
    const { rows } = await this.database.query('listAudit', 'SELECT message_id, at, step, step_key, detail FROM dbo.audit WHERE message_id = @messageId ORDER BY audit_id', [
      text('messageId', messageId),
    ]);
    return rows.map((row) => ({
      messageId: String(row.message_id),
      at: fromUtcTime(row.at) as string,
      step: String(row.step),
      key: String(row.step_key),
      detail: JSON.parse(String(row.detail)) as Record<string, unknown>,
    }));
  }

  /**
   * Upserts the entity's state and appends a change row in one transaction. The entity_state row
   * is read with UPDLOCK and HOLDLOCK, so two mirrors of one entity run one after the other and
   * an older version never replaces a newer one. The change version returned is the change
   * tracking version of the entity_state row, the version `listChanges` reports. It exists only
   * after commit, so it is read then and kept in the change row for a repeated message.
   */
  async mirrorEntityState(mirror: EntityStateMirror): Promise<MirrorResult> {
    const key = [text('connectorId', mirror.connectorId), text('entityType', mirror.entityType), text('entityKey', mirror.entityKey)];
    const written = await this.database.transaction('mirrorEntityState', async (run): Promise<{ applied: boolean; changeId?: number; trackingVersion?: number }> => {
      const current = await run(
        `SELECT version FROM dbo.entity_state WITH (UPDLOCK, HOLDLOCK)
         WHERE connector_id = @connectorId AND entity_type = @entityType AND entity_key = @entityKey`,
        key,
      );
      const earlier = await run(
        `SELECT change_version, tracking_version FROM dbo.entity_changes
         WHERE connector_id = @connectorId AND entity_type = @entityType AND entity_key = @entityKey AND message_id = @messageId`,
        [...key, text('messageId', mirror.messageId)],
      );
      const earlierRow = earlier.rows[0];
      if (earlierRow !== undefined) {
        const changeId = Number(earlierRow.change_version);
        return earlierRow.tracking_version === null ? { applied: true, changeId } : { applied: true, changeId, trackingVersion: Number(earlierRow.tracking_version) };
      }
      const currentRow = current.rows[0];
      if (currentRow !== undefined && isOlder(mirror.version, currentRow.version as EntityVersion | null)) {
        return { applied: false };
      }

      const change = await run(
        `INSERT INTO dbo.entity_changes (connector_id, entity_type, entity_key, version, message_id, changed_at, operation)
         OUTPUT INSERTED.change_version
         VALUES (@connectorId, @entityType, @entityKey, @version, @messageId, @at, N'upsert')`,
        [...key, entityVersion('version', mirror.version), text('messageId', mirror.messageId), utcTime('at', mirror.at)],
      );
      const changeId = Number(change.rows[0]?.change_version);
      await run(
        `MERGE dbo.entity_state AS target
         USING (SELECT @connectorId AS connector_id, @entityType AS entity_type, @entityKey AS entity_key) AS source
           ON target.connector_id = source.connector_id AND target.entity_type = source.entity_type AND target.entity_key = source.entity_key
         WHEN MATCHED THEN UPDATE SET version = @version, last_message_id = @messageId, updated_at = @at, change_version = @changeId
         WHEN NOT MATCHED THEN
           INSERT (connector_id, entity_type, entity_key, version, last_message_id, updated_at, change_version)
           VALUES (@connectorId, @entityType, @entityKey, @version, @messageId, @at, @changeId);`,
        [...key, entityVersion('version', mirror.version), text('messageId', mirror.messageId), utcTime('at', mirror.at), bigInteger('changeId', changeId)],
      );
      return { applied: true, changeId };
    });

    if (written.trackingVersion !== undefined) {
      return { applied: true, changeVersion: written.trackingVersion };
    }
    const trackingVersion = await this.readTrackingVersion(key);
    if (written.changeId !== undefined) {
      // A newer mirror of the same entity may have committed in between. Its version is then
      // kept here too, and the feed lists the entity once, at that version.
      await this.database.query('mirrorEntityState', 'UPDATE dbo.entity_changes SET tracking_version = @trackingVersion WHERE change_version = @changeId AND tracking_version IS NULL', [
        bigInteger('trackingVersion', trackingVersion),
        bigInteger('changeId', written.changeId),
      ]);
      const stored = await this.database.query('mirrorEntityState', 'SELECT tracking_version FROM dbo.entity_changes WHERE change_version = @changeId', [bigInteger('changeId', written.changeId)]);
      return { applied: true, changeVersion: Number(stored.rows[0]?.tracking_version ?? trackingVersion) };
    }
    return { applied: false, changeVersion: trackingVersion };
  }

  /** The change tracking version of the last change to the entity_state row with `key`. */
  private async readTrackingVersion(key: SqlParameter[]): Promise<number> {
    const { rows } = await this.database.query(
      'mirrorEntityState',
      `SELECT ct.SYS_CHANGE_VERSION AS tracking_version
       FROM CHANGETABLE(VERSION dbo.entity_state, (connector_id, entity_type, entity_key), (@connectorId, @entityType, @entityKey)) AS ct`,
      key,
    );
    const version = rows[0]?.tracking_version;
    if (version === null || version === undefined) {
      throw new ConfigurationError(changeTrackingOffMessage);
    }
    return Number(version);
  }

  /**
   * Reads the change feed from SQL change tracking: `CHANGETABLE(CHANGES ...)` on entity_state,
   * joined to the row for its current values. Change tracking keeps the last change of each
   * row, so an entity changed twice after `since` appears once, with its newest version.
   * `since` 0 starts at the oldest change kept. A `since` older than that throws
   * ChangesExpiredError, because the changes in between were cleaned up after the retention.
   */
  async listChanges(sinceChangeVersion: number, limit: number): Promise<ChangePage> {
    return this.database.transaction('listChanges', async (run): Promise<ChangePage> => {
      const bounds = await run(`SELECT CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(N'dbo.entity_state')) AS oldest_valid_version`);
      const oldestValid = bounds.rows[0]?.oldest_valid_version;
      if (oldestValid === null || oldestValid === undefined) {
        throw new ConfigurationError(changeTrackingOffMessage);
      }
      const oldestValidSince = Number(oldestValid);
      if (sinceChangeVersion > 0 && sinceChangeVersion < oldestValidSince) {
        throw new ChangesExpiredError(sinceChangeVersion, oldestValidSince);
      }
      const since = Math.max(sinceChangeVersion, oldestValidSince);
      // A row deleted since then has no current values and is left out: the connector deletes no entity state.
      const { rows } = await run(
        `SELECT TOP (@limit) ct.SYS_CHANGE_VERSION AS change_version, s.connector_id, s.entity_type, s.entity_key, s.version,
                s.last_message_id AS message_id, s.updated_at AS changed_at
         FROM CHANGETABLE(CHANGES dbo.entity_state, @since) AS ct
         JOIN dbo.entity_state AS s
           ON s.connector_id = ct.connector_id AND s.entity_type = ct.entity_type AND s.entity_key = ct.entity_key
         ORDER BY ct.SYS_CHANGE_VERSION`,
        [integer('limit', limit), bigInteger('since', since)],
      );
      const changes = rows.map(toEntityChange);
      const last = changes[changes.length - 1];
      return { changes, lastChangeVersion: last === undefined ? since : last.changeVersion };
    });
  }

  async deleteMessagesOlderThan(date: Date): Promise<number> {
    const cutoff = [utcTime('cutoff', date)];
    const expired = 'SELECT message_id FROM dbo.messages WHERE received_at < @cutoff';
    return this.database.transaction('deleteMessagesOlderThan', async (run) => {
      await run(`DELETE FROM dbo.attempts WHERE message_id IN (${expired})`, cutoff);
      await run(`DELETE FROM dbo.audit WHERE message_id IN (${expired})`, cutoff);
      await run(`DELETE FROM dbo.deliveries WHERE message_id IN (${expired})`, cutoff);
      return (await run('DELETE FROM dbo.messages WHERE received_at < @cutoff', cutoff)).rowCount;
    });
  }

  async listMessages(query: MessageListQuery): Promise<{ messages: MessageRecord[]; continuationToken?: string }> {
    const { conditions, parameters } = buildSqlMessageFilter(query);
    if (query.after !== undefined) {
      conditions.push('(m.received_at < @afterReceivedAt OR (m.received_at = @afterReceivedAt AND m.message_id < @afterMessageId))');
      parameters.push(utcTime('afterReceivedAt', query.after.receivedAt), text('afterMessageId', query.after.messageId));
    }
    // One row more than the limit shows whether another page follows.
    const { rows } = await this.database.query(
      'listMessages',
      `SELECT TOP (@limitPlusOne) m.* FROM dbo.messages m WHERE ${conditions.join(' AND ')} ORDER BY m.received_at DESC, m.message_id DESC`,
      [...parameters, integer('limitPlusOne', query.limit + 1)],
    );
    const messages = rows.slice(0, query.limit).map(toMessageRecord);
    const last = messages[messages.length - 1];
    if (rows.length <= query.limit || last === undefined) {
      return { messages };
    }
    return { messages, continuationToken: encodeContinuationToken({ receivedAt: last.receivedAt, messageId: last.messageId }) };
  }

  async listReplaysOf(messageId: string): Promise<Array<{ messageId: string; receivedAt: string }>> {
    const { rows } = await this.database.query('listReplaysOf', 'SELECT message_id, received_at FROM dbo.messages WHERE replay_of = @messageId ORDER BY received_at, message_id', [
      text('messageId', messageId),
    ]);
    return rows.map((row) => ({ messageId: String(row.message_id), receivedAt: fromUtcTime(row.received_at) as string }));
  }

  async claimReplayMessage(original: MessageRecord, replay: { messageId: string; claimToken: string; now: Date }): Promise<{ inserted: boolean; message: MessageRecord }> {
    const inserted = await insertUnlessExists(() =>
      this.database.query(
        'claimReplayMessage',
        `INSERT INTO dbo.messages (message_id, connector_id, received_at, raw_blob_name, size_in_bytes, sha256, content_type, content_encoding,
           forwarded_headers, claim_state, claim_token, claimed_at, replay_of)
         SELECT @replayMessageId, connector_id, @now, raw_blob_name, size_in_bytes, sha256, content_type, content_encoding, forwarded_headers,
           N'receiving', @claimToken, @now, message_id
         FROM dbo.messages
         WHERE message_id = @originalMessageId
           AND NOT EXISTS (SELECT 1 FROM dbo.messages WITH (UPDLOCK, HOLDLOCK) WHERE message_id = @replayMessageId)`,
        [text('replayMessageId', replay.messageId), utcTime('now', replay.now), text('claimToken', replay.claimToken), text('originalMessageId', original.messageId)],
      ),
    );
    return { inserted, message: await this.requireMessage(replay.messageId) };
  }

  private async requireMessage(messageId: string): Promise<MessageRecord> {
    const message = await this.getMessage(messageId);
    if (message === undefined) {
      throw new Error(`Internal error: message ${messageId} was not found right after it was claimed.`);
    }
    return message;
  }
}

/** Returns true when a `receiving` claim is older than the request's take-over age. */
function isAbandonedClaim(message: MessageRecord, request: ClaimRequest): boolean {
  if (message.claimState !== 'receiving' || request.takeOverReceivingAfterInMilliseconds === undefined) {
    return false;
  }
  return request.now.getTime() - Date.parse(message.claimedAt) >= request.takeOverReceivingAfterInMilliseconds;
}

/** Returns true when `candidate` is older than `current`. Missing versions are never older. */
function isOlder(candidate: EntityVersion | undefined, current: EntityVersion | null): boolean {
  if (candidate === undefined || current === null) {
    return false;
  }
  return compareVersions(candidate, current) < 0;
}
