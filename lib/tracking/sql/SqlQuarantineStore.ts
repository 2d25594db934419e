import type { QuarantineQuery } from '../../quarantine/quarantineStore';
import type { QuarantineStorePort } from '../../quarantine/QuarantineStorePort';
import type { NewQuarantinedPayload, QuarantinedPayload } from '../../quarantine/types';
import type { SqlDatabase } from './sqlDatabase';
import { bigInteger, insertUnlessExists, integer, text, utcTime } from './sqlQuery';
import { toQuarantinedPayload } from './sqlRows';

/** The `quarantine` table of the tracking database on Azure SQL. */
export class SqlQuarantineStore implements QuarantineStorePort {
  constructor(private readonly database: SqlDatabase) {}

  async insert(payload: NewQuarantinedPayload): Promise<boolean> {
    return insertUnlessExists(() =>
      this.database.query(
        'quarantine.insert',
        `INSERT INTO dbo.quarantine (quarantine_id, connector_id, received_at, reason, errors, payload_blob_name, size_in_bytes, sha256,
           content_type, content_encoding, dedup_key, state)
         SELECT @quarantineId, @connectorId, @receivedAt, @reason, @errors, @payloadBlobName, @sizeInBytes, @sha256,
           @contentType, @contentEncoding, @dedupKey, N'quarantined'
         WHERE NOT EXISTS (SELECT 1 FROM dbo.quarantine WITH (UPDLOCK, HOLDLOCK) WHERE quarantine_id = @quarantineId)`,
        [
          text('quarantineId', payload.quarantineId),
          text('connectorId', payload.connectorId),
          utcTime('receivedAt', payload.receivedAt),
          text('reason', payload.reason),
          text('errors', JSON.stringify(payload.errors)),
          text('payloadBlobName', payload.payloadBlobName),
          bigInteger('sizeInBytes', payload.sizeInBytes),
          text('sha256', payload.sha256),
          text('contentType', payload.contentType),
          text('contentEncoding', payload.contentEncoding),
          text('dedupKey', payload.dedupKey),
        ],
      ),
    );
  }

  async get(quarantineId: string): Promise<QuarantinedPayload | undefined> {
    const { rows } = await this.database.query('quarantine.get', 'SELECT * FROM dbo.quarantine WHERE quarantine_id = @quarantineId', [text('quarantineId', quarantineId)]);
    return rows[0] === undefined ? undefined : toQuarantinedPayload(rows[0]);
  }

  async list(query: QuarantineQuery): Promise<QuarantinedPayload[]> {
    const connectorCondition = query.connectorId === undefined ? '' : 'WHERE connector_id = @connectorId';
    const { rows } = await this.database.query(
      'quarantine.list',
      `SELECT TOP (@top) * FROM dbo.quarantine ${connectorCondition} ORDER BY received_at DESC, quarantine_id`,
      [integer('top', query.top), text('connectorId', query.connectorId)],
    );
    return rows.map(toQuarantinedPayload);
  }

  async markReleased(quarantineId: string, messageId: string, releasedAt: Date): Promise<boolean> {
    const result = await this.database.query(
      'quarantine.markReleased',
      `UPDATE dbo.quarantine SET state = N'released', released_at = @releasedAt, message_id = @messageId
       WHERE quarantine_id = @quarantineId AND state = N'quarantined'`,
      [utcTime('releasedAt', releasedAt), text('messageId', messageId), text('quarantineId', quarantineId)],
    );
    return result.rowCount === 1;
  }
}
