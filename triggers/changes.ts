import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { listChangesFunctionName } from '../lib/functionNames';
import { problemResponse, problemTypes } from '../lib/http/problem';
import { handleWithRequestId } from '../lib/http/requestId';
import { ChangesExpiredError, type ChangePage } from '../lib/tracking/types';

export const defaultChangesLimit = 100;
export const maxChangesLimit = 1000;

/**
 * Lists entity state changes with a change version greater than `since` (default 0),
 * oldest first, at most `limit` of them. A client passes the returned
 * `lastChangeVersion` as `since` to read the next page. A `since` whose changes the store
 * no longer keeps gets 410.
 */
export async function listChanges(request: HttpRequest, dependencies: Dependencies = getDependencies()): Promise<HttpResponseInit> {
  const since = parseNonNegativeInteger(request.query.get('since'), 0);
  if (since === undefined) {
    return invalidParameter('since', request.query.get('since'), 'a change version: an integer of 0 or more, such as the lastChangeVersion of the previous page');
  }

  const limit = parseNonNegativeInteger(request.query.get('limit'), defaultChangesLimit);
  if (limit === undefined || limit < 1 || limit > maxChangesLimit) {
    return invalidParameter('limit', request.query.get('limit'), `an integer from 1 to ${maxChangesLimit}`);
  }

  let page: ChangePage;
  try {
    page = await dependencies.trackingStore.listChanges(since, limit);
  } catch (error) {
    if (error instanceof ChangesExpiredError) {
      return changesExpired(error);
    }
    throw error;
  }
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(page) };
}

/** Parses a decimal integer of 0 or more. Returns `defaultValue` for an absent parameter and undefined for an invalid one. */
function parseNonNegativeInteger(text: string | null, defaultValue: number): number | undefined {
  if (text === null) {
    return defaultValue;
  }
  if (!/^\d{1,15}$/.test(text)) {
    return undefined;
  }
  return Number(text);
}

function changesExpired(error: ChangesExpiredError): HttpResponseInit {
  return problemResponse({
    type: problemTypes.changesExpired,
    title: 'Changes expired',
    status: 410,
    detail:
      `Query parameter since is ${error.since}, but the changes after it are no longer kept. ` +
      'Read the feed again from since=0, which starts at the oldest change kept, and refresh your copy of each entity it lists.',
    extensions: { since: error.since, oldestValidSince: error.oldestValidSince },
  });
}

function invalidParameter(name: string, value: string | null, expected: string): HttpResponseInit {
  return problemResponse({
    type: problemTypes.invalidParameter,
    title: 'Invalid query parameter',
    status: 400,
    detail: `Query parameter ${name} is "${value ?? ''}", but it must be ${expected}.`,
  });
}

app.http(listChangesFunctionName, {
  methods: ['GET'],
  route: 'changes',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => listChanges(request, dependencies), { logRejection: true }),
});
