import type { RetryPolicy } from './config/types';
import type { DataFactoryTransformPlan } from './transform/dataFactory/dataFactoryContracts';
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

/** The origin of a replayed message: the message it repeats and the operator who requested the replay. */
export interface ReplayOrigin {
  originalMessageId: string;
  /**
   * The first message of the replay chain: the one the partner sent. A replay offers the entity
   * version in its name, and one without `retransform` sends its `Idempotency-Key`.
   */
  rootMessageId: string;
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

/** The final result of one destination's delivery, returned by `deliverToDestination`. */
export interface DestinationDelivery {
  destinationId: string;
  outcome: 'delivered' | 'deadLettered' | 'filtered';
  /** Number of attempts made, the successful one included. */
  attempts: number;
  statusCode?: number;
  /** Reason of a dead letter or a filtered delivery. */
  reason?: string;
}

export type ProcessMessageOutput =
  | { outcome: 'delivered' | 'filtered'; messageId: string; entity?: EntityReference; changeVersion?: number; destinations: DestinationDelivery[] }
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
  | 'filtered'
  | 'stale'
  | 'deadLettered'
  | 'failed';

/** Delivery settings of one destination, read from the connectors file when processing starts. */
export interface DestinationPlan {
  destinationId: string;
  retry: RetryPolicy;
  circuit: CircuitSettings;
  ordering: 'none' | 'fifoPerEntity';
}

/** The destinations of a message, read from the connectors file when processing starts. */
export interface DeliveryPlan {
  /** The connector's destinations, or for a replay the destinations it names. */
  destinations: DestinationPlan[];
  hasEntity: boolean;
  /** Set when the connector's transform runs on Data Factory. */
  dataFactoryTransform?: DataFactoryTransformPlan;
  /**
   * Each destination's payload, as `transformPayload` returns it, when `recordMessage` already
   * prepared the payloads. It does so for a connector without an entity and without a Data
   * Factory transform. processMessage calls `transformPayload` only when this is absent, which
   * is also the case for a plan that a history recorded before `recordMessage` prepared payloads.
   */
  preparedPayloads?: DestinationPayload[];
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

export interface TransformPayloadInput extends PayloadReference {
  destinationIds: string[];
  /** Set for an operator replay; see `ReplayOrigin.retransform`. */
  replay?: ReplayOrigin;
  /**
   * Set when the connector's transform ran on Data Factory: the payload store name of its output,
   * which the destinations without their own transform get.
   */
  connectorPayloadBlobName?: string;
}

/** Payload decision for one destination: a payload to deliver, nothing because its filter is falsy, or a failure before any attempt. */
export type DestinationPayload =
  | { destinationId: string; kind: 'deliver'; payloadBlobName: string }
  | { destinationId: string; kind: 'filtered' }
  | { destinationId: string; kind: 'failed'; reason: string };

export interface TransformPayloadOutput {
  /** One entry per destination of the input, in its order. */
  destinations: DestinationPayload[];
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
  circuit: CircuitSettings;
  /** Set for `fifoPerEntity` destinations: the `deliveryQueue` entity key and this message's place in it. */
  queue?: { queueKey: string; version?: EntityVersion };
  traceparent?: string;
  /**
   * The `Idempotency-Key` of every attempt. Absent means `<messageId>:<destinationId>`. A replay
   * that sends the same payload again uses the key of the message the partner sent.
   */
  idempotencyKey?: string;
}

/** Input of the `recordDelivery` activity, which writes the delivery row and, for a final outcome, its audit entry and event. */
export interface RecordDeliveryInput {
  messageId: string;
  connectorId: string;
  destinationId: string;
  outcome: 'pending' | 'delivered' | 'deadLettered' | 'filtered';
  reason?: string;
  attempts: number;
  statusCode?: number;
  payloadBlobName?: string;
}

/** Input of the `recordMessageOutcome` activity, which stores the message's final outcome, audits it and publishes its event. */
export interface RecordMessageOutcomeInput {
  messageId: string;
  connectorId: string;
  outcome: 'delivered' | 'stale' | 'deadLettered' | 'filtered';
  reason?: string;
  destinations?: DestinationDelivery[];
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
 * receives the classification and the target's `Retry-After`.
 */
export interface DeliverPayloadOutput {
  outcome: 'delivered' | 'retryable' | 'permanent';
  statusCode?: number;
  /** The failure, without secrets: the network error, the timeout, the status or the refused address. */
  error?: string;
  /** The target's `Retry-After` converted to a wait from the end of the attempt, before clamping. */
  retryAfterInMilliseconds?: number;
  /** True when the target responded 410 Gone, so the destination is disabled until an operator enables it. */
  disablesDestination?: boolean;
  durationInMilliseconds: number;
  /**
   * True when the activity wrote the `delivered` delivery row and its audit entry, which it does
   * for every delivered attempt. False for a failed attempt. deliverToDestination skips
   * `recordDelivery` when it is true, and reports the attempt to the circuit breaker with a
   * signal when the field is present. An output that a history recorded before `deliverPayload`
   * wrote delivery rows lacks the field, and for it deliverToDestination keeps `recordDelivery`
   * and `callEntity`.
   */
  deliveryRecorded?: boolean;
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
  /**
   * Places to reserve in `deliveryQueue` entities when the version is accepted. The entity
   * enqueues them as part of the accepting operation, so queue order follows acceptance order
   * even when the orchestrations run their next steps in another order.
   */
  reserveQueues?: Array<{ queueKey: string; item: QueueItem }>;
}

export interface OfferVersionResult {
  accepted: boolean;
  previousVersion?: EntityVersion;
}

/** Settings of a destination's circuit breaker, sent with every request to its `destinationCircuit` entity. */
export interface CircuitSettings {
  /** Consecutive failed attempts that open the breaker. */
  failureThreshold: number;
  /** Time the breaker stays open before one probe attempt is let through. Also the interval at which a disabled destination is asked again. */
  coolDownInMilliseconds: number;
  /** Time after which a probe that reported nothing, such as one whose host crashed, loses its turn. */
  probeLeaseInMilliseconds: number;
}

/** Input of the `requestAttempt` operation of the `destinationCircuit` entity. */
export interface RequestAttemptInput {
  /** Instance id of the requesting `deliverToDestination` orchestration. */
  instanceId: string;
  /** ISO 8601 UTC time of the request, from the orchestration's replay-safe clock. */
  at: string;
  settings: CircuitSettings;
}

/** Permission for an attempt to start now. Without it, `retryAt` is the time to request again. */
export type AttemptPermission =
  | { allowed: true; probe: boolean }
  | { allowed: false; reason: 'circuitOpen' | 'destinationDisabled'; retryAt: string };

/** Input of the `reportAttempt` operation of the `destinationCircuit` entity. */
export interface ReportAttemptInput {
  instanceId: string;
  messageId: string;
  at: string;
  /**
   * True for a retryable failure: a network error, a timeout, 408, 429 or 5xx. A delivered attempt
   * and a permanent response such as 400 show that the destination responds, so they count as success.
   */
  failed: boolean;
  statusCode?: number;
  /** True when the target responded with 410 Gone. */
  disablesDestination?: boolean;
  settings: CircuitSettings;
}

/** Input of the `enable` operation of the `destinationCircuit` entity, sent by the destination enable endpoint. */
export interface EnableDestinationInput {
  operator: string;
  reason: string;
  at: string;
}

/** State of the `destinationCircuit` entity of one destination. Times are ISO 8601 UTC. */
export interface DestinationCircuitState {
  state: 'closed' | 'open' | 'halfOpen';
  consecutiveFailures: number;
  /** Set while open: the time from which one probe is let through. */
  openUntil?: string;
  /** Set while half-open: the probe's instance and the end of its lease. */
  probe?: { instanceId: string; leaseExpiresAt: string };
  /** Set after a 410 Gone until an operator enables the destination. */
  disabled?: { at: string; messageId: string; statusCode?: number };
  lastEnabled?: EnableDestinationInput;
}

/** One delivery in the `deliveryQueue` entity of a destination and tracked entity key. */
export interface QueueItem {
  messageId: string;
  /** Instance id of the `deliverToDestination` orchestration, which gets the `queueTurn` event. */
  instanceId: string;
  /** Version of the message's entity. Absent when the connector reads no version; such items keep arrival order. */
  version?: EntityVersion;
}

/** State of a `deliveryQueue` entity: the delivery in progress and the deliveries waiting, in version order. */
export interface DeliveryQueueState {
  head?: QueueItem;
  waiting: QueueItem[];
}

/** Result of the `enqueue` operation: whether the item is the head, and otherwise the head it waits behind. */
export interface QueuePosition {
  isHead: boolean;
  /** The message being delivered, when the item is not the head. */
  headMessageId?: string;
  /** 0 for the head, 1 for the first waiting item. */
  position: number;
  /** Number of items waiting behind the head. */
  waitingCount: number;
}

/** Result of the `release` operation: the item that became the head, if any. */
export interface QueueRelease {
  nextHead?: QueueItem;
}

/** Input of the activity that raises the `queueTurn` event to the next head of a delivery queue. */
export interface NotifyQueueTurnInput {
  instanceId: string;
  messageId: string;
  queueKey: string;
}
