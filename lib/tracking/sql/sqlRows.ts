import type { SchemaError } from '../../config/payloadSchema';
import type { QuarantinedPayload, QuarantineState } from '../../quarantine/types';
import type { EntityVersion } from '../../transform/compareVersions';
import type { BulkReplayFilter, BulkReplayItem, BulkReplayRecord, BulkReplayState } from '../replayStore';
import type { AttemptRecord, ClaimState, DeliveryOutcome, DeliveryRecord, EntityChange, MessageOutcome, MessageRecord } from '../types';
import { fromUtcTime, optionalNumber, optionalText, type SqlRow } from './sqlQuery';

/** Returns a NOT NULL datetime2 column as an ISO string. */
function requiredTime(row: SqlRow, column: string): string {
  const value = fromUtcTime(row[column]);
  if (value === undefined) {
    throw new TypeError(`Column ${column} is NULL, but the tracking schema declares it NOT NULL.`);
  }
  return value;
}

/** Sets `record[key]` only when `value` is defined, so absent columns stay absent fields. */
function assignDefined<T extends object, K extends keyof T>(record: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) {
    record[key] = value;
  }
}

/** Returns an entity version read from a sql_variant column, a number or a string. */
function toEntityVersion(value: unknown): EntityVersion | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  return typeof value === 'number' ? value : String(value);
}

export function toMessageRecord(row: SqlRow): MessageRecord {
  const message: MessageRecord = {
    messageId: String(row.message_id),
    connectorId: String(row.connector_id),
    receivedAt: requiredTime(row, 'received_at'),
    claimState: row.claim_state as ClaimState,
    claimToken: String(row.claim_token),
    claimedAt: requiredTime(row, 'claimed_at'),
  };

  assignDefined(message, 'dedupKeyHash', optionalText(row.dedup_key_hash));
  assignDefined(message, 'rawBlobName', optionalText(row.raw_blob_name));
  assignDefined(message, 'sizeInBytes', optionalNumber(row.size_in_bytes));
  assignDefined(message, 'sha256', optionalText(row.sha256));
  assignDefined(message, 'contentType', optionalText(row.content_type));
  assignDefined(message, 'contentEncoding', optionalText(row.content_encoding));
  assignDefined(message, 'configurationVersion', optionalText(row.configuration_version));

  const forwardedHeaders = optionalText(row.forwarded_headers);
  if (forwardedHeaders !== undefined) {
    message.forwardedHeaders = JSON.parse(forwardedHeaders) as Record<string, string>;
  }
  assignDefined(message, 'outcome', optionalText(row.outcome) as MessageOutcome | undefined);
  assignDefined(message, 'outcomeReason', optionalText(row.outcome_reason));
  assignDefined(message, 'completedAt', fromUtcTime(row.completed_at));
  assignDefined(message, 'replayOf', optionalText(row.replay_of));

  const entityType = optionalText(row.entity_type);
  const entityKey = optionalText(row.entity_key);
  if (entityType !== undefined && entityKey !== undefined) {
    message.entity = { type: entityType, key: entityKey };
    assignDefined(message.entity, 'version', toEntityVersion(row.entity_version));
  }
  return message;
}

export function toDeliveryRecord(row: SqlRow): DeliveryRecord {
  const delivery: DeliveryRecord = {
    messageId: String(row.message_id),
    destinationId: String(row.destination_id),
    outcome: row.outcome as DeliveryOutcome,
    attempts: Number(row.attempts),
    updatedAt: requiredTime(row, 'updated_at'),
  };
  assignDefined(delivery, 'payloadBlobName', optionalText(row.payload_blob_name));
  assignDefined(delivery, 'reason', optionalText(row.reason));
  assignDefined(delivery, 'statusCode', optionalNumber(row.status_code));
  return delivery;
}

export function toAttemptRecord(row: SqlRow): AttemptRecord {
  const attempt: AttemptRecord = {
    messageId: String(row.message_id),
    destinationId: String(row.destination_id),
    attemptNumber: Number(row.attempt_number),
    startedAt: requiredTime(row, 'started_at'),
    outcome: row.outcome as AttemptRecord['outcome'],
    durationInMilliseconds: Number(row.duration_in_milliseconds),
  };
  assignDefined(attempt, 'statusCode', optionalNumber(row.status_code));
  assignDefined(attempt, 'error', optionalText(row.error));
  assignDefined(attempt, 'responseBodyStart', optionalText(row.response_body_start));
  return attempt;
}

export function toEntityChange(row: SqlRow): EntityChange {
  const change: EntityChange = {
    changeVersion: Number(row.change_version),
    connectorId: String(row.connector_id),
    entityType: String(row.entity_type),
    entityKey: String(row.entity_key),
    messageId: String(row.message_id),
    changedAt: requiredTime(row, 'changed_at'),
    operation: 'upsert',
  };
  assignDefined(change, 'version', toEntityVersion(row.version));
  return change;
}

export function toQuarantinedPayload(row: SqlRow): QuarantinedPayload {
  const payload: QuarantinedPayload = {
    quarantineId: String(row.quarantine_id),
    connectorId: String(row.connector_id),
    receivedAt: requiredTime(row, 'received_at'),
    reason: String(row.reason),
    errors: JSON.parse(String(row.errors)) as SchemaError[],
    payloadBlobName: String(row.payload_blob_name),
    sizeInBytes: Number(row.size_in_bytes),
    sha256: String(row.sha256),
    contentType: String(row.content_type),
    state: row.state as QuarantineState,
  };
  assignDefined(payload, 'contentEncoding', optionalText(row.content_encoding));
  assignDefined(payload, 'dedupKey', optionalText(row.dedup_key));
  assignDefined(payload, 'releasedAt', fromUtcTime(row.released_at));
  assignDefined(payload, 'messageId', optionalText(row.message_id));
  return payload;
}

export function toBulkReplayItem(row: SqlRow): BulkReplayItem {
  const item: BulkReplayItem = { originalMessageId: String(row.original_message_id), at: requiredTime(row, 'at') };
  assignDefined(item, 'newMessageId', optionalText(row.new_message_id));
  assignDefined(item, 'error', optionalText(row.error));
  return item;
}

export function toBulkReplayRecord(row: SqlRow): BulkReplayRecord {
  const replay: BulkReplayRecord = {
    replayId: String(row.replay_id),
    state: row.state as BulkReplayState,
    filter: JSON.parse(String(row.filter)) as BulkReplayFilter,
    reason: String(row.reason),
    operator: String(row.operator),
    retransform: Number(row.retransform) === 1,
    requestsPerSecond: Number(row.requests_per_second),
    total: Number(row.total),
    replayed: Number(row.replayed),
    failed: Number(row.failed),
    createdAt: requiredTime(row, 'created_at'),
    updatedAt: requiredTime(row, 'updated_at'),
  };

  const destinationIds = optionalText(row.destination_ids);
  if (destinationIds !== undefined) {
    replay.destinationIds = JSON.parse(destinationIds) as string[];
  }

  const upperReceivedAt = fromUtcTime(row.upper_received_at);
  const upperMessageId = optionalText(row.upper_message_id);
  if (upperReceivedAt !== undefined && upperMessageId !== undefined) {
    replay.upperBound = { receivedAt: upperReceivedAt, messageId: upperMessageId };
  }

  const positionReceivedAt = fromUtcTime(row.position_received_at);
  const positionMessageId = optionalText(row.position_message_id);
  if (positionReceivedAt !== undefined && positionMessageId !== undefined) {
    replay.position = { receivedAt: positionReceivedAt, messageId: positionMessageId };
  }

  assignDefined(replay, 'finishedAt', fromUtcTime(row.finished_at));
  assignDefined(replay, 'cancelReason', optionalText(row.cancel_reason));
  assignDefined(replay, 'cancelledBy', optionalText(row.cancelled_by));
  assignDefined(replay, 'error', optionalText(row.error));
  return replay;
}
