/** Reading the JSON bodies of operator requests: replays, bulk replays, cancels and enables. */
import type { HttpResponseInit } from '@azure/functions';
import type { Connectors } from '../config/types';
import { isoDateTimeExpectation, parseIsoDateTime } from './messageListQuery';
import { problemResponse, problemTypes } from './problem';
import type { BulkReplayFilter } from '../tracking/replayStore';
import type { MessageOutcome } from '../tracking/types';

/** Longest `reason` accepted, in characters. */
export const maxReasonLength = 1000;
export const defaultRequestsPerSecond = 5;
export const maxRequestsPerSecond = 50;

export interface ReplayBody {
  reason: string;
  destinationIds?: string[];
  retransform: boolean;
}

export interface BulkReplayBody extends ReplayBody {
  filter: BulkReplayFilter;
  dryRun: boolean;
  requestsPerSecond: number;
}

export type ParsedBody<T> = { body: T; rejection?: undefined } | { body?: undefined; rejection: HttpResponseInit };

const replayMembers = ['reason', 'destinationIds', 'retransform'];
const bulkReplayMembers = [...replayMembers, 'filter', 'dryRun', 'requestsPerSecond'];
const filterMembers = ['connectorId', 'destinationId', 'outcome', 'receivedFrom', 'receivedTo'];
const filterOutcomes: readonly MessageOutcome[] = ['delivered', 'stale', 'deadLettered', 'filtered'];

/** Builds the 400 problem for an invalid request body. `member` is the JSON member at fault, when there is one. */
export function invalidBody(detail: string, member?: string): HttpResponseInit {
  return problemResponse({
    type: problemTypes.invalidRequestBody,
    title: 'Invalid request body',
    status: 400,
    detail,
    extensions: member === undefined ? {} : { member },
  });
}

/** Reads `{ reason, destinationIds?, retransform? }` of a single replay. */
export function parseReplayBody(text: string): ParsedBody<ReplayBody> {
  const object = parseObject(text, replayMembers);
  if ('rejection' in object) {
    return object;
  }
  return readReplayMembers(object.value);
}

/** Reads `{ reason }`, the body of an operator request that needs only a reason, such as a cancel or an enable. */
export function parseReasonBody(text: string): ParsedBody<{ reason: string }> {
  const object = parseObject(text, ['reason']);
  if ('rejection' in object) {
    return object;
  }
  const reason = readReason(object.value);
  return typeof reason === 'string' ? { body: { reason } } : { rejection: reason };
}

/**
 * Reads the body of a bulk replay. Unknown members are rejected, so that a misspelt `dryRun` or
 * filter member cannot start a replay of more messages than meant. Connector and destination
 * ids are checked against the connectors file.
 */
export function parseBulkReplayBody(text: string, connectors: Connectors): ParsedBody<BulkReplayBody> {
  const object = parseObject(text, bulkReplayMembers);
  if ('rejection' in object) {
    return object;
  }
  const replay = readReplayMembers(object.value);
  if (replay.rejection !== undefined) {
    return replay;
  }

  const filterObject = object.value.filter;
  if (typeof filterObject !== 'object' || filterObject === null || Array.isArray(filterObject)) {
    return { rejection: invalidBody('The body has no "filter" object. Send a filter such as {"connectorId": "orders", "outcome": "deadLettered"}; {} selects every message.', 'filter') };
  }
  const filter = readFilter(filterObject as Record<string, unknown>, connectors);
  if ('rejection' in filter) {
    return filter;
  }

  const { dryRun = false, requestsPerSecond = defaultRequestsPerSecond } = object.value;
  if (typeof dryRun !== 'boolean') {
    return { rejection: invalidBody(`"dryRun" is ${JSON.stringify(dryRun)}, but it must be true or false.`, 'dryRun') };
  }
  if (typeof requestsPerSecond !== 'number' || !(requestsPerSecond > 0) || requestsPerSecond > maxRequestsPerSecond) {
    return {
      rejection: invalidBody(`"requestsPerSecond" is ${JSON.stringify(requestsPerSecond)}, but it must be a number greater than 0 and at most ${maxRequestsPerSecond}.`, 'requestsPerSecond'),
    };
  }

  const { destinationIds } = replay.body;
  if (destinationIds !== undefined) {
    const connector = filter.value.connectorId === undefined ? undefined : connectors.byId.get(filter.value.connectorId);
    if (connector === undefined) {
      return { rejection: invalidBody('"destinationIds" needs "filter.connectorId", because destination ids belong to one connector. Add the connector id to the filter.', 'destinationIds') };
    }
    const validIds = connector.destinations.map((destination) => destination.id);
    const unknownId = destinationIds.find((destinationId) => !validIds.includes(destinationId));
    if (unknownId !== undefined) {
      return { rejection: unknownDestination(connector.id, unknownId, validIds) };
    }
  }
  return { body: { ...replay.body, filter: filter.value, dryRun, requestsPerSecond } };
}

/** Builds the 400 problem for a destination id that the connector does not have. */
export function unknownDestination(connectorId: string, destinationId: string, validDestinationIds: string[]): HttpResponseInit {
  return problemResponse({
    type: problemTypes.unknownDestination,
    title: 'Unknown destination',
    status: 400,
    detail: `Connector "${connectorId}" has no destination "${destinationId}". Use destination ids of that connector: ${validDestinationIds.join(', ')}.`,
    extensions: { destinationId, validDestinationIds },
  });
}

function parseObject(text: string, allowedMembers: string[]): { value: Record<string, unknown> } | { rejection: HttpResponseInit } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { rejection: invalidBody('The body is not valid JSON. Send a JSON object with Content-Type application/json.') };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { rejection: invalidBody(`The body must be a JSON object, but it is ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}.`) };
  }
  const unknownMember = Object.keys(value).find((name) => !allowedMembers.includes(name));
  if (unknownMember !== undefined) {
    return { rejection: invalidBody(`The body has the unknown member "${unknownMember}". Use only ${allowedMembers.join(', ')}.`, unknownMember) };
  }
  return { value: value as Record<string, unknown> };
}

function readReason(body: Record<string, unknown>): string | HttpResponseInit {
  const { reason } = body;
  if (typeof reason !== 'string' || reason.trim() === '') {
    return invalidBody('"reason" is missing or empty. Say why, for example {"reason": "target fixed after outage"}; it goes into the audit trail.', 'reason');
  }
  if (reason.length > maxReasonLength) {
    return invalidBody(`"reason" has ${reason.length} characters, but at most ${maxReasonLength} are accepted. Shorten it.`, 'reason');
  }
  return reason.trim();
}

function readReplayMembers(body: Record<string, unknown>): ParsedBody<ReplayBody> {
  const reason = readReason(body);
  if (typeof reason !== 'string') {
    return { rejection: reason };
  }
  const { retransform = false, destinationIds } = body;
  if (typeof retransform !== 'boolean') {
    return { rejection: invalidBody(`"retransform" is ${JSON.stringify(retransform)}, but it must be true or false.`, 'retransform') };
  }
  if (destinationIds === undefined) {
    return { body: { reason, retransform } };
  }
  if (!Array.isArray(destinationIds) || destinationIds.length === 0 || !destinationIds.every((id) => typeof id === 'string' && id !== '')) {
    return {
      rejection: invalidBody(`"destinationIds" is ${JSON.stringify(destinationIds)}, but it must be a non-empty array of destination ids. Leave it out to replay to every destination.`, 'destinationIds'),
    };
  }
  return { body: { reason, retransform, destinationIds: [...new Set(destinationIds as string[])] } };
}

function readFilter(filter: Record<string, unknown>, connectors: Connectors): { value: BulkReplayFilter } | { rejection: HttpResponseInit } {
  const unknownMember = Object.keys(filter).find((name) => !filterMembers.includes(name));
  if (unknownMember !== undefined) {
    return { rejection: invalidBody(`"filter" has the unknown member "${unknownMember}". Use only ${filterMembers.join(', ')}.`, `filter.${unknownMember}`) };
  }
  const nonString = filterMembers.find((name) => filter[name] !== undefined && (typeof filter[name] !== 'string' || filter[name] === ''));
  if (nonString !== undefined) {
    return { rejection: invalidBody(`"filter.${nonString}" is ${JSON.stringify(filter[nonString])}, but it must be a non-empty string.`, `filter.${nonString}`) };
  }

  const value = filter as BulkReplayFilter;
  if (value.connectorId !== undefined && !connectors.byId.has(value.connectorId)) {
    const validIds = connectors.list.map((connector) => connector.id);
    return { rejection: invalidBody(`"filter.connectorId" is "${value.connectorId}", which is not in the connectors file. Use one of ${validIds.join(', ')}.`, 'filter.connectorId') };
  }
  if (value.outcome !== undefined && !filterOutcomes.includes(value.outcome as MessageOutcome)) {
    return {
      rejection: invalidBody(`"filter.outcome" is "${value.outcome}", but it must be one of ${filterOutcomes.join(', ')}; a message still processing cannot be replayed.`, 'filter.outcome'),
    };
  }
  const result: BulkReplayFilter = {};
  for (const name of ['connectorId', 'destinationId', 'outcome'] as const) {
    if (value[name] !== undefined) {
      Object.assign(result, { [name]: value[name] });
    }
  }
  for (const name of ['receivedFrom', 'receivedTo'] as const) {
    const text = value[name];
    if (text !== undefined) {
      const time = parseIsoDateTime(text);
      if (time === undefined) {
        return { rejection: invalidBody(`"filter.${name}" is "${text}", but it must be ${isoDateTimeExpectation}.`, `filter.${name}`) };
      }
      result[name] = time;
    }
  }
  return { value: result };
}
