import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegisteredFunction } from '../functionsCore/registry';
import { parseJsonBody, readBodyWithinLimit } from '../http/endpointBody';
import { problemType, sendProblem, type Problem } from '../http/problem';
import type { HostEndpointHandler } from '../http/server';
import { keyMatches } from '../keys';
import type { FunctionRunOptions } from '../runFunction';
import { hostEnvironmentNames } from '../settings';
import { deliverEvents, type EventDeliveryFailure } from './eventDelivery';
import { InvalidEventsError, parseCloudEvents, parseEventGridRequest, type TopicRequest } from './eventSchemas';

/**
 * The local Event Grid topic, `POST /runtime/webhooks/eventgrid/topic`. Publishers such as
 * `EventGridPublisherClient` of `@azure/eventgrid` send events to it with the host key in the
 * `aeg-sas-key` header, and it delivers each event to every Event Grid trigger function of the
 * app. It responds with 200 once every delivery succeeded, and with 500 otherwise, so that the
 * publisher sends the events again. The `api-version` query parameter is accepted and ignored.
 *
 * It also responds to both subscription validation handshakes: the Event Grid schema's
 * `Microsoft.EventGrid.SubscriptionValidationEvent` and the CloudEvents webhook `OPTIONS` request.
 */

export const eventGridTopicPathSegments = ['runtime', 'webhooks', 'eventgrid', 'topic'];
export const eventGridTopicPath = `/${eventGridTopicPathSegments.join('/')}`;

/**
 * Setting that carries the topic's key to the app, so that the app can publish to the topic of
 * the host it runs on. Its origin is `http://` plus the `WEBSITE_HOSTNAME` setting.
 */
export const topicKeySettingName = 'LOCAL_EVENT_GRID_TOPIC_KEY';

/**
 * Sets `LOCAL_EVENT_GRID_TOPIC_KEY` to the host key in the environment that the app reads,
 * replacing any value there, because the topic accepts no other key.
 */
export function exposeTopicKeyToApp(hostKey: string, env: NodeJS.ProcessEnv = process.env): void {
  env[topicKeySettingName] = hostKey;
}

export interface EventGridTopicOptions extends FunctionRunOptions {
  /** The app's Event Grid trigger functions. */
  functions: RegisteredFunction[];
  hostKey: string;
  maxRequestBodyBytes: number;
}

const sasKeyHeaderName = 'aeg-sas-key';
const allowedMethods = 'POST, OPTIONS';
/** Number of failed deliveries that a 500 response lists. The log has all of them. */
const maxListedFailures = 5;

type TopicMediaType = 'application/json' | 'application/cloudevents+json' | 'application/cloudevents-batch+json';
const topicMediaTypes: readonly TopicMediaType[] = ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'];

/** Returns the media type of the request without parameters such as charset, in lowercase. */
function readMediaType(req: IncomingMessage): string | undefined {
  return req.headers['content-type']?.split(';')[0].trim().toLowerCase();
}

function parseTopicRequest(mediaType: TopicMediaType, body: unknown): TopicRequest {
  switch (mediaType) {
    case 'application/json':
      return parseEventGridRequest(body);
    case 'application/cloudevents+json':
      return { kind: 'events', events: parseCloudEvents(body, false) };
    case 'application/cloudevents-batch+json':
      return { kind: 'events', events: parseCloudEvents(body, true) };
  }
}

/**
 * Responds to the CloudEvents webhook validation handshake. An `OPTIONS` request with
 * `WebHook-Request-Origin` gets that origin back in `WebHook-Allowed-Origin`, and
 * `WebHook-Allowed-Rate: *` when it requested a rate, because the host sets no rate limit.
 * The host never calls a `WebHook-Request-Callback` URL, because the response completes the handshake.
 */
function answerValidationHandshake(req: IncomingMessage, res: ServerResponse, options: EventGridTopicOptions): void {
  const headers: Record<string, string> = { Allow: allowedMethods, 'Content-Length': '0' };
  const origin = req.headers['webhook-request-origin'];
  if (typeof origin === 'string' && origin !== '') {
    headers['WebHook-Allowed-Origin'] = origin;
    if (req.headers['webhook-request-rate'] !== undefined) {
      headers['WebHook-Allowed-Rate'] = '*';
    }
    options.logger.info({ origin }, 'CloudEvents validation handshake accepted');
  }
  res.writeHead(200, headers);
  res.end();
}

/** Logs a rejected request with the problem's status and detail, then sends the problem. */
function reject(res: ServerResponse, options: EventGridTopicOptions, problem: Problem): void {
  options.logger.info({ path: eventGridTopicPath, status: problem.status, detail: problem.detail }, 'Event Grid request rejected');
  sendProblem(res, problem);
}

function describeFailures(failures: EventDeliveryFailure[]): string {
  const listed = failures
    .slice(0, maxListedFailures)
    .map((failure) => `function "${failure.functionName}" for event "${failure.eventId}" (invocation ${failure.invocationId})`);
  const more = failures.length > maxListedFailures ? `, and ${failures.length - maxListedFailures} more` : '';
  return `${listed.join(', ')}${more}`;
}

function sendDeliveryFailed(res: ServerResponse, failures: EventDeliveryFailure[]): void {
  sendProblem(res, {
    status: 500,
    type: problemType('event-delivery-failed'),
    title: 'Event delivery failed',
    detail:
      `Delivery failed for ${describeFailures(failures)}. The host log contains each error under its invocation id. ` +
      'Send the events again. Every function then receives every event of the request again, including the events whose delivery succeeded.',
  });
}

async function publishEvents(req: IncomingMessage, res: ServerResponse, options: EventGridTopicOptions): Promise<void> {
  if (!keyMatches(typeof req.headers[sasKeyHeaderName] === 'string' ? req.headers[sasKeyHeaderName] : undefined, options.hostKey)) {
    options.logger.info({ path: eventGridTopicPath }, 'request rejected: missing or invalid key');
    sendProblem(res, {
      status: 401,
      type: problemType('unauthorized'),
      title: 'Missing or invalid key',
      detail: `The Event Grid topic requires the host key in the ${sasKeyHeaderName} header. The key is ${hostEnvironmentNames.functionKey}, or the hostKey in the key file whose path the host prints at start.`,
    });
    return;
  }

  const mediaType = readMediaType(req);
  if (!topicMediaTypes.includes(mediaType as TopicMediaType)) {
    reject(res, options, {
      status: 415,
      type: problemType('unsupported-media-type'),
      title: 'Unsupported media type',
      detail: `The content type is ${JSON.stringify(req.headers['content-type'] ?? null)}, but the Event Grid topic accepts ${topicMediaTypes.join(', ')}.`,
    });
    return;
  }

  const bytes = await readBodyWithinLimit(req, res, options.maxRequestBodyBytes, options.logger);
  if (!bytes) {
    return;
  }
  const parsed = parseJsonBody(bytes);
  if (!parsed.ok) {
    reject(res, options, { status: 400, type: problemType('invalid-json'), title: 'Invalid JSON', detail: parsed.reason });
    return;
  }

  let request: TopicRequest;
  try {
    request = parseTopicRequest(mediaType as TopicMediaType, parsed.value);
  } catch (error) {
    if (!(error instanceof InvalidEventsError)) {
      throw error;
    }
    reject(res, options, { status: 400, type: problemType('invalid-events'), title: 'Invalid events', detail: error.message });
    return;
  }

  if (request.kind === 'subscriptionValidation') {
    options.logger.info({}, 'Event Grid subscription validation handshake accepted');
    const body = Buffer.from(JSON.stringify({ validationResponse: request.validationCode }));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) });
    res.end(body);
    return;
  }

  const { events } = request;
  if (options.functions.length === 0) {
    options.logger.warn({ eventCount: events.length }, 'Event Grid events dropped: the app registers no Event Grid trigger functions');
  }
  const failures = await deliverEvents(options, options.functions, events);
  options.logger.info({ eventCount: events.length, functionCount: options.functions.length, failedDeliveries: failures.length }, 'Event Grid events delivered');
  if (failures.length > 0) {
    sendDeliveryFailed(res, failures);
    return;
  }
  res.writeHead(200, { 'Content-Length': '0' });
  res.end();
}

/** Creates the handler of the Event Grid topic, for `HostHttpServer.addHostEndpoint`. */
export function createEventGridTopicHandler(options: EventGridTopicOptions): HostEndpointHandler {
  return async (req, res, url, pathSegments) => {
    if (pathSegments.length > 0) {
      sendProblem(res, {
        status: 404,
        type: problemType('route-not-found'),
        title: 'Route not found',
        detail: `No endpoint serves ${url.pathname}. The Event Grid topic is ${eventGridTopicPath}.`,
      });
      return;
    }
    if (req.method === 'OPTIONS') {
      answerValidationHandshake(req, res, options);
      return;
    }
    if (req.method !== 'POST') {
      sendProblem(res, {
        status: 405,
        type: problemType('method-not-allowed'),
        title: 'Method not allowed',
        detail: `${req.method} is not allowed for ${eventGridTopicPath}. Allowed methods: ${allowedMethods}.`,
        headers: { Allow: allowedMethods },
      });
      return;
    }
    await publishEvents(req, res, options);
  };
}
