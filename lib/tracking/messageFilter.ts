import type { MessageOutcome } from './types';

/** `pending`: the message has no outcome yet, because it is still being processed. */
export type MessageOutcomeFilter = MessageOutcome | 'pending';

export const messageOutcomeFilters: readonly MessageOutcomeFilter[] = ['delivered', 'stale', 'deadLettered', 'filtered', 'pending'];

/**
 * Conditions on accepted messages. Every condition that is set must hold. Times are ISO 8601
 * UTC strings in the form `Date.toISOString()` returns, so they compare as text.
 */
export interface MessageFilter {
  connectorId?: string;
  outcome?: MessageOutcomeFilter;
  entityKey?: string;
  /** SHA-256 of the dedup key, as `hashDedupKey` returns it. */
  dedupKeyHash?: string;
  /** Messages with a delivery or an attempt to this destination. A filtered delivery does not count. */
  destinationId?: string;
  /** Inclusive lower bound of `received_at`. */
  receivedFrom?: string;
  /** Exclusive upper bound of `received_at`. */
  receivedTo?: string;
}

/** The position of a message in (received_at, message_id) order. */
export interface MessagePosition {
  receivedAt: string;
  messageId: string;
}

export interface FilterSql {
  /** Conditions on the `messages` table aliased `m`, to join with AND. */
  conditions: string[];
  parameters: Array<string | number>;
}

/** Builds the SQL conditions of a filter. Only accepted messages match, because a `receiving` claim is not a message yet. */
export function buildMessageFilterSql(filter: MessageFilter): FilterSql {
  const conditions = [`m.claim_state = 'accepted'`];
  const parameters: Array<string | number> = [];
  if (filter.connectorId !== undefined) {
    conditions.push('m.connector_id = ?');
    parameters.push(filter.connectorId);
  }
  if (filter.outcome === 'pending') {
    conditions.push('m.outcome IS NULL');
  } else if (filter.outcome !== undefined) {
    conditions.push('m.outcome = ?');
    parameters.push(filter.outcome);
  }
  if (filter.entityKey !== undefined) {
    conditions.push('m.entity_key = ?');
    parameters.push(filter.entityKey);
  }
  if (filter.dedupKeyHash !== undefined) {
    conditions.push('m.dedup_key_hash = ?');
    parameters.push(filter.dedupKeyHash);
  }
  if (filter.destinationId !== undefined) {
    conditions.push(
      `(EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.message_id AND d.destination_id = ? AND d.outcome <> 'filtered')
        OR EXISTS (SELECT 1 FROM attempts a WHERE a.message_id = m.message_id AND a.destination_id = ?))`,
    );
    parameters.push(filter.destinationId, filter.destinationId);
  }
  if (filter.receivedFrom !== undefined) {
    conditions.push('m.received_at >= ?');
    parameters.push(filter.receivedFrom);
  }
  if (filter.receivedTo !== undefined) {
    conditions.push('m.received_at < ?');
    parameters.push(filter.receivedTo);
  }
  return { conditions, parameters };
}
