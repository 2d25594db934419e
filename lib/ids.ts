import crypto from 'node:crypto';

/** Number of hex characters of the SHA-256 of the dedup key that go into a message id (128 bits). */
const dedupHashLengthInHexCharacters = 32;

/**
 * Matches message ids: a connector id, a hyphen and 32 lowercase hex characters. Such an
 * id is a valid Durable Functions instance id and a URL path segment without escaping.
 */
export const messageIdPattern = /^[a-z0-9][a-z0-9-]{0,62}-[0-9a-f]{32}$/;

/** Returns the lowercase hex SHA-256 of a dedup key, as stored in the tracking tables. */
export function hashDedupKey(dedupKey: string): string {
  return crypto.createHash('sha256').update(dedupKey, 'utf8').digest('hex');
}

/**
 * Returns the message id, which is also the orchestration instance id. The same connector
 * and dedup key always give the same id, so a duplicate request maps to the same message.
 * Without a dedup key the id is random, so every request is a new message.
 */
export function createMessageId(connectorId: string, dedupKey: string | undefined): string {
  if (dedupKey === undefined) {
    return `${connectorId}-${crypto.randomUUID().replace(/-/g, '')}`;
  }
  return `${connectorId}-${hashDedupKey(dedupKey).slice(0, dedupHashLengthInHexCharacters)}`;
}

/** Returns true when `value` has the form of a message id. */
export function isMessageId(value: string): boolean {
  return messageIdPattern.test(value);
}

/**
 * Returns the instance id of a message's delivery to one destination. It is also the
 * `Idempotency-Key` sent to the destination on every attempt.
 */
export function createDeliveryInstanceId(messageId: string, destinationId: string): string {
  return `${messageId}:${destinationId}`;
}

/**
 * Returns the instance id of a message's Data Factory transform. Destination ids contain no
 * colon, so it never equals a delivery instance id.
 */
export function createDataFactoryTransformInstanceId(messageId: string): string {
  return `${messageId}:transform:adf`;
}

/** Returns the payload store name of a message's raw bytes. */
export function rawBlobNameOf(connectorId: string, messageId: string): string {
  return `raw/${connectorId}/${messageId}`;
}

/** Returns the payload store name of a message's transformed payload. */
export function transformedBlobNameOf(connectorId: string, messageId: string): string {
  return `transformed/${connectorId}/${messageId}`;
}

/** Returns the key of the tracked entity of one business entity, such as `orders|order|123`. */
export function createTrackedEntityKey(connectorId: string, entityType: string, entityKey: string): string {
  return `${connectorId}|${entityType}|${entityKey}`;
}

/**
 * Returns a tracked entity key that carries a SHA-256 of the entity key instead of the key, for
 * connectors that redact payload fields. It keeps one entity per key without showing the key.
 */
export function createHashedTrackedEntityKey(connectorId: string, entityType: string, entityKey: string): string {
  const keyHash = crypto.createHash('sha256').update(entityKey, 'utf8').digest('hex').slice(0, 32);
  return `${connectorId}|${entityType}|sha256:${keyHash}`;
}

/**
 * Returns the key of the tracked entity of a business entity: with a SHA-256 of the entity key for
 * connectors that redact payload fields, so that the key does not show in entity ids, and with
 * the key itself otherwise.
 */
export function trackedEntityKeyOf(connector: { id: string; redact?: string[] }, entityType: string, entityKey: string): string {
  if ((connector.redact ?? []).length > 0) {
    return createHashedTrackedEntityKey(connector.id, entityType, entityKey);
  }
  return createTrackedEntityKey(connector.id, entityType, entityKey);
}

/** Returns the payload store name of a message's payload transformed by one destination's own transform. */
export function destinationTransformedBlobNameOf(connectorId: string, messageId: string, destinationId: string): string {
  return `transformed/${connectorId}/${messageId}/${destinationId}`;
}

/** Returns the key of a destination's `destinationCircuit` entity, such as `orders|erp`. */
export function createCircuitEntityKey(connectorId: string, destinationId: string): string {
  return `${connectorId}|${destinationId}`;
}

/**
 * Returns the key of the `deliveryQueue` entity of one destination and tracked entity, such as
 * `erp|orders|order|123`. The tracked entity key starts with the connector id.
 */
export function createDeliveryQueueKey(destinationId: string, trackedEntityKey: string): string {
  return `${destinationId}|${trackedEntityKey}`;
}
