import type { MessageListQuery } from './messageList';
import type { ReplayStorePort } from './ReplayStorePort';
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
} from './types';

/**
 * Messages, delivery attempts, the audit trail and mirrored entity state, as function code uses
 * them. `mirrorEntityState` and `deleteMessagesOlderThan` write their rows in one transaction.
 * No lock spans two calls, so a flow of several calls, such as claim and then accept, relies on
 * the compare-and-set on the claim token.
 */
export interface TrackingStorePort {
  /** Bulk replays, in the same store. */
  readonly replays: ReplayStorePort;

  /** Runs a trivial query. The health check calls it to test that the store responds. */
  ping(): Promise<void>;

  /**
   * Claims a message id for one ingest request. Returns `claimed` when this request owns the
   * message, and `exists` with the stored row when another request claimed it first.
   */
  claimMessage(request: ClaimRequest): Promise<ClaimResult>;
  /** Marks the message accepted if `claimToken` still owns the claim. Returns false otherwise. */
  markAccepted(messageId: string, claimToken: string, payload: AcceptedPayload): Promise<boolean>;
  /** Deletes a `receiving` claim owned by `claimToken`. Returns false when the token does not own it. */
  releaseClaim(messageId: string, claimToken: string): Promise<boolean>;
  getMessage(messageId: string): Promise<MessageRecord | undefined>;
  setMessageEntity(messageId: string, entity: MessageEntity): Promise<void>;
  setConfigurationVersion(messageId: string, configurationVersion: string): Promise<void>;
  /** Sets the final outcome of a message. `completedAt` is an ISO 8601 UTC time. */
  setMessageOutcome(messageId: string, outcome: MessageOutcome, reason: string | undefined, completedAt: string): Promise<void>;
  /** Lists accepted messages newest first. */
  listMessages(query: MessageListQuery): Promise<{ messages: MessageRecord[]; continuationToken?: string }>;
  /** Returns the ids of the messages that replay `messageId`, oldest first. */
  listReplaysOf(messageId: string): Promise<Array<{ messageId: string; receivedAt: string }>>;
  /** Claims `replay.messageId` for a replay of `original`. Returns the stored row and whether this call inserted it. */
  claimReplayMessage(original: MessageRecord, replay: { messageId: string; claimToken: string; now: Date }): Promise<{ inserted: boolean; message: MessageRecord }>;
  /** Deletes messages received before `date` with their attempts, audit entries and deliveries. Returns the number of messages deleted. */
  deleteMessagesOlderThan(date: Date): Promise<number>;

  upsertDelivery(delivery: DeliveryRecord): Promise<void>;
  /** Returns the deliveries of a message, ordered by destination id. */
  listDeliveries(messageId: string): Promise<DeliveryRecord[]>;
  /** Inserts or replaces one attempt, so that a re-run of the same attempt does not add a row. */
  recordAttempt(attempt: AttemptRecord): Promise<void>;
  /** Returns the attempts of a message, ordered by destination id and attempt number. */
  listAttempts(messageId: string): Promise<AttemptRecord[]>;

  /**
   * Appends an audit entry unless one with the same message id, step and key exists. Returns
   * true when the entry was added. Callers may replace it with a wrapper that calls the original.
   */
  appendAudit(entry: NewAuditEntry): Promise<boolean>;
  /**
   * Replaces secret values in each string of an audit detail before it is written. It is
   * synchronous because it only rewrites text, and callers also use it on response bodies.
   */
  scrubAuditText: (text: string) => string;
  /** Returns the audit trail of a message in the order it was written. */
  listAudit(messageId: string): Promise<AuditEntry[]>;

  /** Upserts the entity's state and appends a change row as one step. Returns the change version. */
  mirrorEntityState(mirror: EntityStateMirror): Promise<MirrorResult>;
  /** Returns up to `limit` entity changes after `sinceChangeVersion`, oldest first. */
  listChanges(sinceChangeVersion: number, limit: number): Promise<ChangePage>;
}
