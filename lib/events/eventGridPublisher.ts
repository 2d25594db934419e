import crypto from 'node:crypto';
import { AzureKeyCredential, EventGridPublisherClient, type EventGridPublisherClientOptions, type SendCloudEventInput } from '@azure/eventgrid';
import type pino from 'pino';
import { errorMessageOf } from '../errors';
import { createAzureCredential, type AzureCredential } from '../secrets/azureCredential';
import type { EventPublisher, LifecycleEvent } from './lifecycleEvent';

/**
 * Endpoint of the Event Grid topic for lifecycle events, with its access key or, when `key` is
 * absent, with a Microsoft Entra token of the app's identity. `key` is a secret.
 */
export interface EventGridTopicSettings {
  endpoint: string;
  key?: string;
  /** Client id of the user-assigned managed identity (`AZURE_CLIENT_ID`) for a topic without `key`. */
  managedIdentityClientId?: string;
}

/** Parts of the Event Grid client that tests replace: the token credential, and TLS options such as a test CA. */
export interface EventGridClientOverrides {
  credential?: AzureCredential;
  tlsOptions?: EventGridPublisherClientOptions['tlsOptions'];
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
 * Publishes lifecycle events as CloudEvents to an Event Grid topic, with its access key or with a
 * token of the app's identity (`ManagedIdentityCredential` when `managedIdentityClientId` is set,
 * otherwise `DefaultAzureCredential`). A failed publish is logged with the event id and the error,
 * never the key, and hands the event to `fallback`, such as the log publisher. It does not throw
 * unless `fallback` throws, so a step of a message does not fail because the topic is down. Events
 * published in the same event-loop turn share one request.
 */
export function createEventGridPublisher(settings: EventGridTopicSettings, logger: pino.Logger, fallback?: EventPublisher, overrides: EventGridClientOverrides = {}): EventPublisher {
  const endpoint = new URL(settings.endpoint);
  const credential = settings.key !== undefined ? new AzureKeyCredential(settings.key) : (overrides.credential ?? createAzureCredential(settings.managedIdentityClientId));
  const client = new EventGridPublisherClient(settings.endpoint, 'CloudEvent', credential, {
    allowInsecureConnection: endpoint.protocol === 'http:',
    retryOptions: { maxRetries: maxPublishRetries, retryDelayInMs: retryDelayInMilliseconds, maxRetryDelayInMs: retryDelayInMilliseconds * 4 },
    ...(overrides.tlsOptions === undefined ? {} : { tlsOptions: overrides.tlsOptions }),
  });
  const topicHost = endpoint.host;
  const scrub = (text: string): string => (settings.key === undefined ? text : text.split(settings.key).join('[redacted]'));
  const logFieldsOf = (event: LifecycleEvent) => ({ eventType: event.type, eventId: lifecycleEventId(event), messageId: event.messageId, connectorId: event.connectorId, topicHost });

  const sendBatch = async (batch: PendingEvent[]): Promise<void> => {
    try {
      await client.send(batch.map((pending) => toCloudEvent(pending.event)));
      for (const pending of batch) {
        logger.debug(logFieldsOf(pending.event), 'lifecycle event published');
      }
    } catch (error) {
      const message = scrub(errorMessageOf(error));
      for (const pending of batch) {
        logger.warn({ ...logFieldsOf(pending.event), batchSize: batch.length, error: message }, 'lifecycle event not published to Event Grid');
      }
      await Promise.all(batch.map((pending) => fallback?.publish(pending.event)));
    }
  };

  return { publish: createBatchingPublish(sendBatch) };
}

interface PendingEvent {
  event: LifecycleEvent;
  done: () => void;
  failed: (error: unknown) => void;
}

/** Maximum number of events in one request. Lifecycle events are well under 1 KB, and Event Grid takes 1 MB per request. */
export const maxEventsPerPublish = 100;

/**
 * Collects the events published in one event-loop turn and sends them in requests of up to
 * `maxEventsPerPublish`, so a busy host makes one request for many messages. Each `publish`
 * resolves once the request with its event has finished.
 */
function createBatchingPublish(sendBatch: (batch: PendingEvent[]) => Promise<void>): EventPublisher['publish'] {
  let pending: PendingEvent[] = [];
  const flush = (): void => {
    const ready = pending;
    pending = [];
    for (let start = 0; start < ready.length; start += maxEventsPerPublish) {
      const batch = ready.slice(start, start + maxEventsPerPublish);
      sendBatch(batch).then(
        () => batch.forEach((entry) => entry.done()),
        (error: unknown) => batch.forEach((entry) => entry.failed(error)),
      );
    }
  };
  return (event) =>
    new Promise<void>((done, failed) => {
      pending.push({ event, done, failed });
      if (pending.length === 1) {
        setImmediate(flush);
      }
    });
}
