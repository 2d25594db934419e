import type Database from 'better-sqlite3';
import { buildMessageFilterSql, type MessageFilter, type MessagePosition } from './messageFilter';
import type { MessageRow } from './trackingStore';

export interface MessageListQuery extends MessageFilter {
  /** Maximum number of messages returned. */
  limit: number;
  /** Lists only messages after this position in newest-first order, from the previous page's token. */
  after?: MessagePosition;
}

export interface MessageRowPage {
  rows: MessageRow[];
  /** Set when more messages may follow; pass it back to read the next page. */
  continuationToken?: string;
}

/** A continuation token that `decodeContinuationToken` cannot read. */
export class InvalidContinuationTokenError extends Error {
  override name = 'InvalidContinuationTokenError';
}

/**
 * Lists messages newest first by (received_at, message_id), the keyset that the continuation
 * token carries, so that messages received while a caller pages do not shift later pages.
 */
export function listMessageRows(db: Database.Database, query: MessageListQuery): MessageRowPage {
  const { conditions, parameters } = buildMessageFilterSql(query);
  if (query.after !== undefined) {
    conditions.push('(m.received_at < ? OR (m.received_at = ? AND m.message_id < ?))');
    parameters.push(query.after.receivedAt, query.after.receivedAt, query.after.messageId);
  }
  // One row more than the limit shows whether another page follows.
  const rows = db
    .prepare(`SELECT m.* FROM messages m WHERE ${conditions.join(' AND ')} ORDER BY m.received_at DESC, m.message_id DESC LIMIT ?`)
    .all(...parameters, query.limit + 1) as MessageRow[];

  if (rows.length <= query.limit) {
    return { rows };
  }
  const pageRows = rows.slice(0, query.limit);
  const last = pageRows[pageRows.length - 1];
  return { rows: pageRows, continuationToken: encodeContinuationToken({ receivedAt: last.received_at, messageId: last.message_id }) };
}

/** Encodes a position as base64url JSON. Callers treat the token as opaque. */
export function encodeContinuationToken(position: MessagePosition): string {
  return Buffer.from(JSON.stringify({ receivedAt: position.receivedAt, messageId: position.messageId }), 'utf8').toString('base64url');
}

/** Decodes a token from `encodeContinuationToken`. Throws InvalidContinuationTokenError for any other text. */
export function decodeContinuationToken(token: string): MessagePosition {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidContinuationTokenError('The continuation token is not base64url JSON.', { cause: error });
  }
  const { receivedAt, messageId } = (position ?? {}) as Partial<Record<keyof MessagePosition, unknown>>;
  if (typeof receivedAt !== 'string' || typeof messageId !== 'string') {
    throw new InvalidContinuationTokenError('The continuation token has no receivedAt and messageId strings.');
  }
  return { receivedAt, messageId };
}
