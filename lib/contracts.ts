import type { RetryPolicy } from './config/types';
import type { EntityVersion } from './transform/compareVersions';
import type { EntityReference } from './transform/extractEntity';

/**
 * Inputs and outputs of the orchestrations, activities and entity. They travel through
 * the orchestration history, so they carry payload store names and never payloads.
 */

export interface ProcessMessageInput {
  messageId: string;
  connectorId: string;
  rawBlobName: string;
  /** ISO 8601 UTC time at which the ingest trigger claimed the message. */
  receivedAt: string;
  contentType: string;
  /** Content coding of the stored raw bytes, such as "gzip". Absent when they are not encoded. */
  contentEncoding?: string;
  sizeInBytes: number;
  sha256: string;
  /** Set when an operator replays an earlier message; this message is then a new, linked one. */
  replay?: ReplayOrigin;
  /** W3C `traceparent` of the message's trace, sent to destinations on every attempt. */
  traceparent?: string;
}

/** What a replayed message repeats, and who asked for it. */
export interface ReplayOrigin {
  originalMessageId: string;
  /** Destinations to deliver to. Absent means all of the connector's current destinations. */
  destinationIds?: string[];
  /**
   * True: transform the stored raw bytes again with the current connector version. False: deliver
   * the payload that the original message delivered to each destination.
   */
  retransform: boolean;
  reason: string;
  /** The operator's identity, from the `x-ms-client-principal-name` header. */
  operator: string;
  /** Set when the replay is part of a bulk replay. */
  bulkReplayId?: string;
}

export interface DestinationDelivery {
  destinationId: string;
  /** Number of attempts made, the successful one included. */
  attempts: number;
  statusCode?: number;
}

export type ProcessMessageOutput =
  | { outcome: 'delivered'; messageId: string; entity?: EntityReference; changeVersion?: number; destinations: DestinationDelivery[] }
  | { outcome: 'stale'; messageId: string; entity: EntityReference; previousVersion?: EntityVersion };

/** The stage of a `processMessage` orchestration, shown as its custom status. */
export type ProcessingStage =
  | 'recording'
  | 'readingEntity'
  | 'offeringVersion'
  | 'transforming'
  | 'mirroringEntityState'
  | 'delivering'
  | 'delivered'
  | 'stale'
  | 'failed';

/** The destinations of a message and their retry policies, read from the connectors file when processing starts. */
export interface DeliveryPlan {
  destinations: Array<{ destinationId: string; retry: RetryPolicy }>;
  hasEntity: boolean;
}

export interface PayloadReference {
  messageId: string;
  connectorId: string;
  rawBlobName: string;
}

export interface ReadEntityVersionOutput {
  /** Absent when the connector declares no entity. */
  entity?: EntityReference;
  /**
   * Key of the tracked entity when it must not show the entity key: set for connectors that
   * redact payload fields, because entity ids appear in host logs. Absent otherwise.
   */
  trackedEntityKey?: string;
}

export interface TransformPayloadOutput {
  /** The name of the payload to deliver: the transformed payload, or the raw one when the connector has no transform. */
  payloadBlobName: string;
  sizeInBytes: number;
}

export interface MirrorEntityStateInput {
  messageId: string;
  connectorId: string;
  entity: EntityReference;
}

export interface WriteAuditInput {
  messageId: string;
  step: string;
  /** Distinguishes repeated entries of one step, such as a destination id. */
  key?: string;
  detail: Record<string, unknown>;
}

export interface DeliverToDestinationInput {
  messageId: string;
  connectorId: string;
  destinationId: string;
  payloadBlobName: string;
  retry: RetryPolicy;
}

export interface DeliverPayloadInput {
  messageId: string;
  connectorId: string;
  destinationId: string;
  payloadBlobName: string;
  /** 1 for the first attempt. */
  attemptNumber: number;
  maxAttempts: number;
  idempotencyKey: string;
  /** W3C `traceparent` sent with the attempt. */
  traceparent?: string;
}

/**
 * The result of one attempt. Failed attempts are returned, not thrown, so that the orchestrator
 * sees the classification and the target's `Retry-After`.
 */
export interface DeliverPayloadOutput {
  outcome: 'delivered' | 'retryable' | 'permanent';
  statusCode?: number;
  /** What failed, without secrets: the network error, the timeout, the status or the refused address. */
  error?: string;
  /** The target's `Retry-After` converted to a wait from the end of the attempt, before clamping. */
  retryAfterInMilliseconds?: number;
  /** True when the target answered 410 Gone: the destination is disabled until an operator enables it. */
  disablesDestination?: boolean;
  durationInMilliseconds: number;
}

/** State of a tracked entity: the newest accepted version of one business entity. */
export interface TrackedEntityState {
  version: EntityVersion;
  messageId: string;
  /** ISO 8601 UTC time of the accepting offer. */
  updatedAt: string;
}

export interface OfferVersionInput {
  version: EntityVersion;
  messageId: string;
  /** ISO 8601 UTC time of the offer, from the orchestration's replay-safe clock. */
  offeredAt?: string;
}

export interface OfferVersionResult {
  accepted: boolean;
  previousVersion?: EntityVersion;
}
