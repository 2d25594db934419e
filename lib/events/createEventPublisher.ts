import type pino from 'pino';
import { createEventGridPublisher, type EventGridClientOverrides, type EventGridTopicSettings } from './eventGridPublisher';
import type { EventPublisher } from './lifecycleEvent';

/** Settings of the Event Grid topic that receives lifecycle events. */
export const eventGridSettingNames = {
  endpoint: 'EVENT_GRID_TOPIC_ENDPOINT',
  key: 'EVENT_GRID_TOPIC_KEY',
  /** Client id of the user-assigned managed identity that publishes when the topic has no key. */
  managedIdentityClientId: 'AZURE_CLIENT_ID',
  /** Host name and port of the app, set by Azure, Core Tools and the local host. */
  websiteHostName: 'WEBSITE_HOSTNAME',
  /** The local host's topic key, which the local host sets for the app it runs. A secret. */
  localTopicKey: 'LOCAL_EVENT_GRID_TOPIC_KEY',
} as const;

/** `EVENT_GRID_TOPIC_ENDPOINT` value that turns publishing off, so events are only logged. */
export const eventGridEndpointOff = 'none';

/** Path of the local host's Event Grid topic, which accepts the local host's key in `aeg-sas-key`. */
export const localTopicPath = '/runtime/webhooks/eventgrid/topic';

const loopbackHostNames = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Returns the local host's own topic, or undefined when the app does not run on the local host.
 * The app runs there when `WEBSITE_HOSTNAME` is a loopback address and `LOCAL_EVENT_GRID_TOPIC_KEY`
 * is set. Core Tools sets `WEBSITE_HOSTNAME=localhost:7071` too, but not the key, and has no such topic.
 */
function readLocalTopicSettings(readSetting: (name: string) => string | undefined): EventGridTopicSettings | undefined {
  const hostName = readSetting(eventGridSettingNames.websiteHostName);
  const key = readSetting(eventGridSettingNames.localTopicKey);
  if (hostName === undefined || key === undefined || key === '') {
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(localTopicPath, `http://${hostName}`);
  } catch {
    return undefined;
  }
  return loopbackHostNames.includes(url.hostname) ? { endpoint: url.href, key } : undefined;
}

/**
 * Returns the Event Grid topic settings, or undefined when events are only logged.
 *
 * - `EVENT_GRID_TOPIC_ENDPOINT=none`: only logged.
 * - endpoint and `EVENT_GRID_TOPIC_KEY`: the topic with its access key.
 * - endpoint without a key: the topic with a token of the app's identity (`AZURE_CLIENT_ID`
 *   selects a user-assigned one). This needs https.
 * - neither: the local host's own topic when the app runs on the local host, otherwise only logged.
 *
 * A key without an endpoint, or an invalid endpoint, is logged as a warning and returns undefined.
 * An `http:` endpoint is accepted only on a loopback address with a key, such as the local host's topic.
 */
export function readEventGridTopicSettings(readSetting: (name: string) => string | undefined, logger: pino.Logger): EventGridTopicSettings | undefined {
  const endpoint = readSetting(eventGridSettingNames.endpoint);
  const key = readSetting(eventGridSettingNames.key);
  if (endpoint?.trim().toLowerCase() === eventGridEndpointOff) {
    return undefined;
  }
  if (endpoint === undefined && key === undefined) {
    return readLocalTopicSettings(readSetting);
  }
  if (endpoint === undefined) {
    logger.warn(
      { missingSetting: eventGridSettingNames.endpoint },
      'Event Grid topic setting is not set, so lifecycle events are only logged: set EVENT_GRID_TOPIC_ENDPOINT, or remove EVENT_GRID_TOPIC_KEY',
    );
    return undefined;
  }

  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    logger.warn({ setting: eventGridSettingNames.endpoint, endpoint }, 'Event Grid topic endpoint is not a URL, so lifecycle events are only logged: set the topic endpoint, such as https://<topic>.<region>-1.eventgrid.azure.net/api/events');
    return undefined;
  }
  const loopbackHttp = url.protocol === 'http:' && loopbackHostNames.includes(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    logger.warn({ setting: eventGridSettingNames.endpoint, endpoint }, 'Event Grid topic endpoint must use https (http only on a loopback address), so lifecycle events are only logged');
    return undefined;
  }
  if (key !== undefined) {
    return { endpoint, key };
  }
  if (loopbackHttp) {
    logger.warn(
      { setting: eventGridSettingNames.endpoint, endpoint, missingSetting: eventGridSettingNames.key },
      'Event Grid topic endpoint uses http, which needs EVENT_GRID_TOPIC_KEY because identity tokens are sent over https only, so lifecycle events are only logged',
    );
    return undefined;
  }
  const managedIdentityClientId = readSetting(eventGridSettingNames.managedIdentityClientId);
  return managedIdentityClientId === undefined ? { endpoint } : { endpoint, managedIdentityClientId };
}

/** Returns the name of the credential that the publisher uses, for the start-up log line. */
function describeAuthentication(settings: EventGridTopicSettings): string {
  if (settings.key !== undefined) {
    return 'key';
  }
  return settings.managedIdentityClientId === undefined ? 'DefaultAzureCredential' : 'ManagedIdentityCredential';
}

/**
 * Returns the Event Grid publisher when a topic is configured or the local host provides one, and
 * `fallback` otherwise. The Event Grid publisher hands each event it could not publish to `fallback`.
 */
export function createEventPublisher(
  readSetting: (name: string) => string | undefined,
  logger: pino.Logger,
  fallback: EventPublisher,
  overrides: EventGridClientOverrides = {},
): EventPublisher {
  const settings = readEventGridTopicSettings(readSetting, logger);
  if (settings === undefined) {
    return fallback;
  }
  logger.info({ topicHost: new URL(settings.endpoint).host, authentication: describeAuthentication(settings) }, 'lifecycle events go to the Event Grid topic');
  return createEventGridPublisher(settings, logger, fallback, overrides);
}
