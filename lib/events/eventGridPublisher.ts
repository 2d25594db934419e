import crypto from 'node:crypto';
import { AzureKeyCredential, EventGridPublisherClient, type SendCloudEventInput } from '@azure/eventgrid';
import type pino from 'pino';
import { errorMessageOf } from '../errors';
import type { EventPublisher, LifecycleEvent } from './lifecycleEvent';

/** Endpoint and access key of the Event Grid topic for lifecycle events. `key` is a secret. */
export interface EventGridTopicSettings {
  endpoint: string;
  key: string;
}

/** Retries of one publish after the first try. Publishing runs inside triggers and activities, so it gives up early. */
const maxPublishRetries = 2;
const retryDelayInMilliseconds = 200;

/**
 * Returns the CloudEvents `id` of a lifecycle event: a SHA-256 of its message id, type and key
 * (or `data.destinationId` when it has no key). An activity that runs again publishes the same id,
 * so subscribers can drop the duplicate.
 */
export function lifecycleEventId(event: LifecycleEvent): string {
  const destinationId = typeof event.data.destinationId === 'string' ? event.data.destinationId : '';
  const key = event.key ?? destinationId;
  return crypto.createHash('sha256').update(`${event.messageId}\n${event.type}\n${key}`, 'utf8').digest('hex').slice(0, 32);
}

/** Converts a lifecycle event to a CloudEvents 1.0 event with `source` `/connectors/<id>` and `subject` `messages/<id>`. */
export function toCloudEvent(event: LifecycleEvent): SendCloudEventInput<Record<string, unknown>> {
  return {
    id: lifecycleEventId(event),
    type: event.type,
    source: `/connectors/${event.connectorId}`,
    subject: `messages/${event.messageId}`,
    time: new Date(event.time),
    datacontenttype: 'application/json',
    data: { messageId: event.messageId, connectorId: event.connectorId, ...event.data },
  };
}

/**
 * Publishes lifecycle events as CloudEvents to an Event Grid topic with its access key. A failed
 * publish is logged with the event id and the error, never the key, and does not throw, so a
 * step of a message never fails because the topic is down.
 */
export function createEventGridPublisher(settings: EventGridTopicSettings, logger: pino.Logger): EventPublisher {
  const endpoint = new URL(settings.endpoint);
  const client = new EventGridPublisherClient(settings.endpoint, 'CloudEvent', new AzureKeyCredential(settings.key), {
    allowInsecureConnection: endpoint.protocol === 'http:',
    retryOptions: { maxRetries: maxPublishRetries, retryDelayInMs: retryDelayInMilliseconds, maxRetryDelayInMs: retryDelayInMilliseconds * 4 },
  });
  const topicHost = endpoint.host;

  return {
    publish: async (event) => {
      const logFields = { eventType: event.type, eventId: lifecycleEventId(event), messageId: event.messageId, connectorId: event.connectorId, topicHost };
      try {
        await client.send([toCloudEvent(event)]);
        logger.debug(logFields, 'lifecycle event published');
      } catch (error) {
        const message = errorMessageOf(error).split(settings.key).join('[redacted]');
        logger.warn({ ...logFields, error: message }, 'lifecycle event not published to Event Grid');
      }
    },
  };
}
