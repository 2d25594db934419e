import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { hashDedupKey } from '../ids';
import { decodeContinuationToken, InvalidContinuationTokenError, type MessageListQuery } from '../tracking/messageList';
import { messageOutcomeFilters, type MessageOutcomeFilter } from '../tracking/messageFilter';
import { problemResponse, problemTypes } from './problem';

export const defaultMessageListLimit = 50;
export const maxMessageListLimit = 500;

/** An ISO 8601 date-time with seconds optional and a time zone, such as `2026-12-04T12:00:00Z`. */
const isoDateTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export type ParsedQuery<T> = { query: T; rejection?: undefined } | { query?: undefined; rejection: HttpResponseInit };

/** Builds the 400 problem for query parameter `name` with `value`, and what it must be. */
export function invalidParameter(name: string, value: string, expected: string): HttpResponseInit {
  return problemResponse({
    type: problemTypes.invalidParameter,
    title: 'Invalid query parameter',
    status: 400,
    detail: `Query parameter ${name} is "${value}", but it must be ${expected}.`,
    extensions: { parameter: name },
  });
}

/** Returns `value` as an ISO 8601 UTC string in the form the tracking store keeps, or undefined when it is not a valid date-time. */
export function parseIsoDateTime(value: string): string | undefined {
  if (!isoDateTimePattern.test(value)) {
    return undefined;
  }
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

export const isoDateTimeExpectation = 'an ISO 8601 date-time with a time zone, such as 2026-12-04T12:00:00Z';

/** Reads the filters, the limit and the continuation token of `GET /api/messages`. */
export function parseMessageListQuery(request: HttpRequest): ParsedQuery<MessageListQuery> {
  const query: MessageListQuery = { limit: defaultMessageListLimit };
  const read = (name: string): string | undefined => {
    const value = request.query.get(name);
    return value === null || value === '' ? undefined : value;
  };

  const limitText = read('limit');
  if (limitText !== undefined) {
    const limit = Number(limitText);
    if (!/^\d{1,3}$/.test(limitText) || limit < 1 || limit > maxMessageListLimit) {
      return { rejection: invalidParameter('limit', limitText, `an integer from 1 to ${maxMessageListLimit}`) };
    }
    query.limit = limit;
  }

  const outcome = read('outcome');
  if (outcome !== undefined) {
    if (!messageOutcomeFilters.includes(outcome as MessageOutcomeFilter)) {
      return { rejection: invalidParameter('outcome', outcome, `one of ${messageOutcomeFilters.join(', ')}`) };
    }
    query.outcome = outcome as MessageOutcomeFilter;
  }

  for (const name of ['receivedFrom', 'receivedTo'] as const) {
    const text = read(name);
    if (text !== undefined) {
      const time = parseIsoDateTime(text);
      if (time === undefined) {
        return { rejection: invalidParameter(name, text, isoDateTimeExpectation) };
      }
      query[name] = time;
    }
  }

  const token = read('continuationToken');
  if (token !== undefined) {
    try {
      query.after = decodeContinuationToken(token);
    } catch (error) {
      if (!(error instanceof InvalidContinuationTokenError)) {
        throw error;
      }
      return { rejection: invalidParameter('continuationToken', token, 'the continuationToken of the previous page, unchanged') };
    }
  }

  query.connectorId = read('connectorId');
  query.entityKey = read('entityKey');
  query.destinationId = read('destinationId');
  const dedupKey = read('dedupKey');
  query.dedupKeyHash = dedupKey === undefined ? undefined : hashDedupKey(dedupKey);
  return { query };
}
