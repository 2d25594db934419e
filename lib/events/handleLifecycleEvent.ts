import type pino from 'pino';
import type { LifecycleEventType } from './lifecycleEvent';

/**
 * Fixed log message of a dead-lettered delivery, logged at error level. The dead-letter alert in
 * infra/alerts.ts searches the app's traces for this text, so change both together.
 */
export const deadLetterAlertMessage = 'dead-letter alert';

const knownEventTypes: readonly LifecycleEventType[] = ['message.received', 'message.delivered', 'message.stale', 'message.deadlettered', 'message.replayed'];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * Logs one lifecycle event that the Event Grid trigger received as a CloudEvent 1.0. A
 * `message.deadlettered` event is logged at error level as `deadLetterAlertMessage` with the
 * message, connector and destination ids and the reason. Other known types are logged at debug
 * level. An unknown type or an event that is not a CloudEvent object is logged as a warning and
 * ignored without an error, so Event Grid does not deliver it again. It publishes nothing, so
 * receiving an event cannot cause another one.
 */
export function handleLifecycleEvent(event: unknown, logger: pino.Logger): void {
  if (!isPlainObject(event) || typeof event.type !== 'string') {
    logger.warn({ receivedType: event === null ? 'null' : typeof event }, 'lifecycle event ignored: the input is not a CloudEvent with a type');
    return;
  }

  const data = isPlainObject(event.data) ? event.data : {};
  const fields = {
    eventId: stringOrNull(event.id),
    eventType: event.type,
    messageId: stringOrNull(data.messageId),
    connectorId: stringOrNull(data.connectorId),
  };
  if (!(knownEventTypes as readonly string[]).includes(event.type)) {
    logger.warn({ ...fields, source: stringOrNull(event.source) }, 'lifecycle event ignored: unknown type');
    return;
  }
  if (event.type === 'message.deadlettered') {
    logger.error({ ...fields, destinationId: stringOrNull(data.destinationId), reason: stringOrNull(data.reason), attempts: data.attempts ?? null }, deadLetterAlertMessage);
    return;
  }
  logger.debug(fields, 'lifecycle event received');
}
