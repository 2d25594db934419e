import type pino from 'pino';
import { createEventGridPublisher, type EventGridTopicSettings } from './eventGridPublisher';
import type { EventPublisher } from './lifecycleEvent';

/** Settings of the Event Grid topic that receives lifecycle events. */
export const eventGridSettingNames = {
  endpoint: 'EVENT_GRID_TOPIC_ENDPOINT',
  key: 'EVENT_GRID_TOPIC_KEY',
} as const;

const loopbackHostNames = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Returns the Event Grid topic settings, or undefined when neither is set. A half-set or invalid
 * pair is logged as a warning and also returns undefined, so events are then only logged. An
 * `http:` endpoint is accepted only on a loopback address, such as the local host's own topic.
 */
export function readEventGridTopicSettings(readSetting: (name: string) => string | undefined, logger: pino.Logger): EventGridTopicSettings | undefined {
  const endpoint = readSetting(eventGridSettingNames.endpoint);
  const key = readSetting(eventGridSettingNames.key);
  if (endpoint === undefined && key === undefined) {
    return undefined;
  }
  if (endpoint === undefined || key === undefined) {
    const missing = endpoint === undefined ? eventGridSettingNames.endpoint : eventGridSettingNames.key;
    logger.warn({ missingSetting: missing }, 'Event Grid topic setting is not set, so lifecycle events are only logged: set both EVENT_GRID_TOPIC_ENDPOINT and EVENT_GRID_TOPIC_KEY, or neither');
    return undefined;
  }

  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    logger.warn({ setting: eventGridSettingNames.endpoint, endpoint }, 'Event Grid topic endpoint is not a URL, so lifecycle events are only logged: set the topic endpoint, such as https://<topic>.<region>-1.eventgrid.azure.net/api/events');
    return undefined;
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && loopbackHostNames.includes(url.hostname));
  if (!secure) {
    logger.warn({ setting: eventGridSettingNames.endpoint, endpoint }, 'Event Grid topic endpoint must use https (http only on a loopback address), so lifecycle events are only logged');
    return undefined;
  }
  return { endpoint, key };
}

/** Returns the Event Grid publisher when its settings are set, and `fallback` otherwise. */
export function createEventPublisher(readSetting: (name: string) => string | undefined, logger: pino.Logger, fallback: EventPublisher): EventPublisher {
  const settings = readEventGridTopicSettings(readSetting, logger);
  if (settings === undefined) {
    return fallback;
  }
  logger.info({ topicHost: new URL(settings.endpoint).host }, 'lifecycle events go to the Event Grid topic');
  return createEventGridPublisher(settings, logger);
}
