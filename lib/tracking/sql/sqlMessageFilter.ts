import type { MessageFilter } from '../messageFilter';
import { text, utcTime, type SqlParameter } from './sqlQuery';

/** T-SQL conditions on `dbo.messages` aliased `m`, to join with AND, and their parameters. */
export interface SqlFilter {
  conditions: string[];
  parameters: SqlParameter[];
}

/**
 * Builds the T-SQL conditions of a message filter, as `buildMessageFilterSql` does for SQLite.
 * Only accepted messages match, because a `receiving` claim is not a message yet.
 */
export function buildSqlMessageFilter(filter: MessageFilter): SqlFilter {
  const conditions = [`m.claim_state = N'accepted'`];
  const parameters: SqlParameter[] = [];
  if (filter.connectorId !== undefined) {
    conditions.push('m.connector_id = @filterConnectorId');
    parameters.push(text('filterConnectorId', filter.connectorId));
  }
  if (filter.outcome === 'pending') {
    conditions.push('m.outcome IS NULL');
  } else if (filter.outcome !== undefined) {
    conditions.push('m.outcome = @filterOutcome');
    parameters.push(text('filterOutcome', filter.outcome));
  }
  if (filter.entityKey !== undefined) {
    conditions.push('m.entity_key = @filterEntityKey');
    parameters.push(text('filterEntityKey', filter.entityKey));
  }
  if (filter.dedupKeyHash !== undefined) {
    conditions.push('m.dedup_key_hash = @filterDedupKeyHash');
    parameters.push(text('filterDedupKeyHash', filter.dedupKeyHash));
  }
  if (filter.destinationId !== undefined) {
    conditions.push(
      `(EXISTS (SELECT 1 FROM dbo.deliveries d WHERE d.message_id = m.message_id AND d.destination_id = @filterDestinationId AND d.outcome <> N'filtered')
        OR EXISTS (SELECT 1 FROM dbo.attempts a WHERE a.message_id = m.message_id AND a.destination_id = @filterDestinationId))`,
    );
    parameters.push(text('filterDestinationId', filter.destinationId));
  }
  if (filter.receivedFrom !== undefined) {
    conditions.push('m.received_at >= @filterReceivedFrom');
    parameters.push(utcTime('filterReceivedFrom', filter.receivedFrom));
  }
  if (filter.receivedTo !== undefined) {
    conditions.push('m.received_at < @filterReceivedTo');
    parameters.push(utcTime('filterReceivedTo', filter.receivedTo));
  }
  return { conditions, parameters };
}
