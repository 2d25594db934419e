import type { EntityVersion } from '../transform/compareVersions';

/**
 * `receiving` while the ingest trigger stores the bytes and starts the orchestration,
 * `accepted` once both succeeded and the partner got 202.
 */
export type ClaimState = 'receiving' | 'accepted';

export interface MessageEntity {
  type: string;
  key: string;
  version?: EntityVersion;
}

/** One inbound message. Timestamps are ISO 8601 strings in UTC. */
export interface MessageRecord {
  messageId: string;
  connectorId: string;
  /** SHA-256 of the dedup key, absent when the request had none. */
  dedupKeyHash?: string;
  receivedAt: string;
  rawBlobName?: string;
  sizeInBytes?: number;
  sha256?: string;
  contentType?: string;
  /** Content coding of the stored bytes, such as "gzip". Absent when they are not encoded. */
  contentEncoding?: string;
  claimState: ClaimState;
  claimToken: string;
  claimedAt: string;
  /** Set once the orchestration has read the entity from the payload. */
  entity?: MessageEntity;
  /** SHA-256 of the connector definition that processed the message, set when processing starts. */
  configurationVersion?: string;
  /** Partner request headers that a destination's `forwardHeaders` lists, by lower-case name. */
  forwardedHeaders?: Record<string, string>;
  /** Absent while the message is being processed. */
  outcome?: MessageOutcome;
  /** Why the message was dead-lettered or is pending: the destination and its last failure. */
  outcomeReason?: string;
  completedAt?: string;
  /** The message id this message replays. */
  replayOf?: string;
}

/**
 * `delivered`: every chosen destination accepted it. `stale`: a newer version of its entity was
 * already accepted. `deadLettered`: a destination ran out of attempts or deadline, or responded
 * with a permanent failure. `filtered`: no destination's filter matched.
 */
export type MessageOutcome = 'delivered' | 'stale' | 'deadLettered' | 'filtered';

/** `pending` while attempts go on or the message waits for the destination's circuit breaker. */
export type DeliveryOutcome = 'pending' | 'delivered' | 'deadLettered' | 'filtered';

/** The delivery of one message to one destination. */
export interface DeliveryRecord {
  messageId: string;
  destinationId: string;
  /** The payload store name of the bytes delivered; absent for a filtered destination. */
  payloadBlobName?: string;
  outcome: DeliveryOutcome;
  reason?: string;
  attempts: number;
  statusCode?: number;
  updatedAt: string;
}

export interface ClaimRequest {
  messageId: string;
  connectorId: string;
  dedupKeyHash?: string;
  /** Random token that identifies this claim in later compare-and-set updates. */
  claimToken: string;
  now: Date;
  /**
   * Age after which a `receiving` claim is treated as abandoned, for example by a crash
   * between claim and start, and may be taken over. Without it a claim is never taken over.
   */
  takeOverReceivingAfterInMilliseconds?: number;
}

export type ClaimResult =
  | { status: 'claimed'; takenOver: boolean; message: MessageRecord }
  | { status: 'exists'; message: MessageRecord };

export interface AcceptedPayload {
  rawBlobName: string;
  sizeInBytes: number;
  sha256: string;
  contentType: string;
  contentEncoding?: string;
  /** Partner request headers kept for forwarding, by lower-case name. */
  forwardedHeaders?: Record<string, string>;
}

export interface AttemptRecord {
  messageId: string;
  destinationId: string;
  /** 1 for the first attempt. */
  attemptNumber: number;
  startedAt: string;
  outcome: 'delivered' | 'retryable' | 'permanent';
  statusCode?: number;
  error?: string;
  durationInMilliseconds: number;
  /** Up to the destination's `responseBodyStartBytes` of the response body. */
  responseBodyStart?: string;
}

export interface AuditEntry {
  messageId: string;
  at: string;
  step: string;
  /**
   * Distinguishes repeated entries of one step, such as the destination id of a
   * `delivered` step. Empty when a step happens once per message.
   */
  key: string;
  detail: Record<string, unknown>;
}

/** An audit entry to append. `key` defaults to the empty string. */
export type NewAuditEntry = Omit<AuditEntry, 'key'> & { key?: string };

export interface EntityStateMirror {
  connectorId: string;
  entityType: string;
  entityKey: string;
  version?: EntityVersion;
  messageId: string;
  at: Date;
}

export interface MirrorResult {
  /** False when a newer version was already mirrored; the tables are then unchanged. */
  applied: boolean;
  /** The change version of this message's change, or the current one when not applied. */
  changeVersion: number;
}

export interface EntityChange {
  changeVersion: number;
  connectorId: string;
  entityType: string;
  entityKey: string;
  version?: EntityVersion;
  messageId: string;
  changedAt: string;
  operation: 'upsert';
}

/**
 * Error for a `since` whose following changes are no longer kept, so the feed cannot list them.
 * Azure SQL change tracking drops changes older than its retention. The SQLite store never does.
 */
export class ChangesExpiredError extends Error {
  override name = 'ChangesExpiredError';

  constructor(
    readonly since: number,
    readonly oldestValidSince: number,
  ) {
    super(`Changes after change version ${since} are no longer kept; the oldest change version to read from is ${oldestValidSince}.`);
  }
}

export interface ChangePage {
  changes: EntityChange[];
  /** The change version to pass as `since` for the next page; `since` itself when the page is empty. */
  lastChangeVersion: number;
}
