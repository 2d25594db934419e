/**
 * Validation of the events that publishers send to the local Event Grid topic. It accepts the two
 * input schemas of Azure Event Grid. The Event Grid schema is a JSON array of events with `id`,
 * `subject`, `eventType`, `eventTime`, `data` and `dataVersion`. CloudEvents 1.0 come in
 * structured mode, as one event or as a batch in a JSON array.
 */

export type EventSchema = 'EventGrid' | 'CloudEvents';

/** One validated event, as the Event Grid trigger functions receive it. */
export interface TopicEvent {
  schema: EventSchema;
  id: string;
  /** `eventType` in the Event Grid schema, `type` in CloudEvents. */
  type: string;
  body: Record<string, unknown>;
}

export type TopicRequest =
  | { kind: 'events'; events: TopicEvent[] }
  /** An Event Grid subscription validation handshake. The endpoint responds to it and delivers nothing. */
  | { kind: 'subscriptionValidation'; validationCode: string };

/** Raised for a request body whose events are invalid. The message names the event and the field. */
export class InvalidEventsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventsError';
  }
}

export const subscriptionValidationEventType = 'Microsoft.EventGrid.SubscriptionValidationEvent';

/**
 * `topic` that Event Grid events get when the publisher sent none. Azure Event Grid sets the
 * resource id of the topic there. This id has the same form and names no real subscription.
 */
export const localTopicId = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.EventGrid/topics/local';

/** `metadataVersion` that Event Grid sets on Event Grid schema events. */
const eventGridMetadataVersion = '1';

const eventGridRequiredFields = ['id', 'subject', 'eventType', 'eventTime', 'data', 'dataVersion'] as const;
const cloudEventSpecVersion = '1.0';

/** RFC 3339 date-time, which CloudEvents requires for `time`. */
const rfc3339DateTimePattern = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** ISO 8601 date-time for `eventTime`. The offset is optional here, unlike in RFC 3339. */
const isoDateTimePattern = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/;
/** CloudEvents attribute names: lowercase letters and digits. */
const cloudEventAttributeNamePattern = /^[a-z0-9]+$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeJsonType(value: unknown): string {
  if (Array.isArray(value)) {
    return 'an array';
  }
  return value === null ? 'null' : `a ${typeof value}`;
}

/** Maximum length of a value quoted in an error message. */
const maxQuotedValueLength = 80;

/** Returns `value` as JSON for an error message, shortened to `maxQuotedValueLength` characters. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > maxQuotedValueLength ? `${text.slice(0, maxQuotedValueLength - 3)}...` : text;
}

function isDateTime(value: string, pattern: RegExp): boolean {
  return pattern.test(value) && !Number.isNaN(Date.parse(value));
}

/** Returns how error messages name one event: by its index in a batch, or plainly for a single event. */
function eventLabel(index: number | undefined): string {
  return index === undefined ? 'The event' : `The event at index ${index}`;
}

function requireNonEmptyString(event: Record<string, unknown>, field: string, label: string, hint: string): string {
  const value = event[field];
  if (value === undefined) {
    throw new InvalidEventsError(`${label} has no "${field}" field. ${hint}`);
  }
  if (typeof value !== 'string' || value === '') {
    throw new InvalidEventsError(`${label} has "${field}" ${quote(value)}, but it must be a non-empty string.`);
  }
  return value;
}

function requireOptionalString(event: Record<string, unknown>, field: string, label: string): void {
  const value = event[field];
  if (value !== undefined && typeof value !== 'string') {
    throw new InvalidEventsError(`${label} has "${field}" ${quote(value)}, but it must be a string.`);
  }
}

function validateEventGridEvent(value: unknown, index: number): TopicEvent {
  const label = eventLabel(index);
  if (!isPlainObject(value)) {
    throw new InvalidEventsError(`${label} is ${describeJsonType(value)}, but an Event Grid event must be a JSON object.`);
  }
  const looksLikeCloudEvent = value.specversion !== undefined;
  const hint = looksLikeCloudEvent
    ? 'The event has "specversion", so it looks like a CloudEvent. Send CloudEvents with the content type application/cloudevents+json or application/cloudevents-batch+json.'
    : `An Event Grid event needs ${eventGridRequiredFields.join(', ')}.`;

  for (const field of eventGridRequiredFields) {
    if (value[field] === undefined) {
      throw new InvalidEventsError(`${label} has no "${field}" field. ${hint}`);
    }
  }
  const id = requireNonEmptyString(value, 'id', label, hint);
  // Event Grid's own subscription validation event has an empty subject, so "" is valid.
  requireOptionalString(value, 'subject', label);
  const eventType = requireNonEmptyString(value, 'eventType', label, hint);
  const eventTime = requireNonEmptyString(value, 'eventTime', label, hint);
  if (!isDateTime(eventTime, isoDateTimePattern)) {
    throw new InvalidEventsError(`${label} has "eventTime" ${quote(eventTime)}, but it must be an ISO 8601 date-time such as 2026-12-04T12:00:00Z.`);
  }
  // Event Grid itself sets an empty dataVersion when the publisher sends none, so "" is valid.
  requireOptionalString(value, 'dataVersion', label);
  requireOptionalString(value, 'topic', label);
  if (value.metadataVersion !== undefined && value.metadataVersion !== eventGridMetadataVersion) {
    throw new InvalidEventsError(`${label} has "metadataVersion" ${quote(value.metadataVersion)}, but it must be "${eventGridMetadataVersion}" or left out.`);
  }

  // Event Grid stamps the topic and the metadata version on events it delivers.
  const body = { ...value, topic: value.topic ?? localTopicId, metadataVersion: eventGridMetadataVersion };
  return { schema: 'EventGrid', id, type: eventType, body };
}

/** Returns the validation code when `events` is a subscription validation handshake. */
function findValidationCode(events: TopicEvent[]): string | undefined {
  const validationIndex = events.findIndex((event) => event.type === subscriptionValidationEventType);
  if (validationIndex < 0) {
    return undefined;
  }
  if (events.length > 1) {
    throw new InvalidEventsError(`${eventLabel(validationIndex)} is a ${subscriptionValidationEventType}, which must be the only event of its request.`);
  }
  const data = events[0].body.data;
  const validationCode = isPlainObject(data) ? data.validationCode : undefined;
  if (typeof validationCode !== 'string' || validationCode === '') {
    throw new InvalidEventsError(`${eventLabel(validationIndex)} is a ${subscriptionValidationEventType} without a "data.validationCode" string.`);
  }
  return validationCode;
}

/** Validates a JSON body in the Event Grid schema: an array of events, or a subscription validation handshake. */
export function parseEventGridRequest(body: unknown): TopicRequest {
  if (!Array.isArray(body)) {
    throw new InvalidEventsError(
      `The body is ${describeJsonType(body)}, but the Event Grid schema needs a JSON array of events. Wrap a single event in [ ], or send a single CloudEvent with the content type application/cloudevents+json.`,
    );
  }
  const events = body.map(validateEventGridEvent);
  const validationCode = findValidationCode(events);
  return validationCode === undefined ? { kind: 'events', events } : { kind: 'subscriptionValidation', validationCode };
}

function validateCloudEvent(value: unknown, index: number | undefined): TopicEvent {
  const label = eventLabel(index);
  if (!isPlainObject(value)) {
    throw new InvalidEventsError(`${label} is ${describeJsonType(value)}, but a CloudEvent must be a JSON object.`);
  }
  const hint = 'A CloudEvent needs specversion, id, source and type.';
  const specVersion = requireNonEmptyString(value, 'specversion', label, hint);
  if (specVersion !== cloudEventSpecVersion) {
    throw new InvalidEventsError(`${label} has "specversion" ${quote(specVersion)}, but the topic accepts CloudEvents ${cloudEventSpecVersion} only.`);
  }
  const id = requireNonEmptyString(value, 'id', label, hint);
  requireNonEmptyString(value, 'source', label, hint);
  const type = requireNonEmptyString(value, 'type', label, hint);
  for (const field of ['subject', 'datacontenttype', 'dataschema', 'time', 'data_base64']) {
    requireOptionalString(value, field, label);
  }
  if (typeof value.time === 'string' && !isDateTime(value.time, rfc3339DateTimePattern)) {
    throw new InvalidEventsError(`${label} has "time" ${quote(value.time)}, but it must be an RFC 3339 date-time such as 2026-12-04T12:00:00Z.`);
  }
  if (value.data !== undefined && value.data_base64 !== undefined) {
    throw new InvalidEventsError(`${label} has both "data" and "data_base64", but a CloudEvent may have only one of them.`);
  }
  for (const name of Object.keys(value)) {
    if (name !== 'data_base64' && !cloudEventAttributeNamePattern.test(name)) {
      throw new InvalidEventsError(`${label} has the attribute "${name}", but CloudEvents attribute names may contain only lowercase letters a-z and digits.`);
    }
  }
  return { schema: 'CloudEvents', id, type, body: value };
}

/** Validates one CloudEvent (`batch` false) or a JSON array of them (`batch` true). */
export function parseCloudEvents(body: unknown, batch: boolean): TopicEvent[] {
  if (!batch) {
    return [validateCloudEvent(body, undefined)];
  }
  if (!Array.isArray(body)) {
    throw new InvalidEventsError(
      `The body is ${describeJsonType(body)}, but application/cloudevents-batch+json needs a JSON array of CloudEvents. Send a single event with the content type application/cloudevents+json.`,
    );
  }
  return body.map((event, index) => validateCloudEvent(event, index));
}
