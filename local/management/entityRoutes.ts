import type { ManagementRequest } from './managementRequest';
import type { EntityListPage } from '../durable/types';
import { InvalidRequestError, readBooleanParameter, readDateParameter, readPositiveIntegerParameter } from './queryParameters';

const continuationTokenHeader = 'x-ms-continuation-token';

/** `entities/{name}/{key}` routes of the management API: read an entity's state and signal an operation. */

/** Converts the key `$` to the empty key, as the extension does, because a URL segment cannot be empty. */
function toEntityKey(key: string): string {
  return key === '$' ? '' : key;
}

/** `GET entities/{name}/{key}`: 200 with the state, or 404 when the entity does not exist. */
export async function readEntityState(request: ManagementRequest, name: string, key: string): Promise<void> {
  const entity = await request.engine.readEntity(name, toEntityKey(key));
  if (!entity.exists) {
    request.sendProblem(404, 'entity-not-found', 'Entity not found', `Entity @${name}@${key} does not exist or has no state.`);
    return;
  }
  request.sendJson(200, entity.state);
}

/**
 * Signals an entity: `POST entities/{name}/{key}?op=` signals operation `op` with the body as
 * input, parsed as JSON when sent as `application/json` and passed as text otherwise. `DELETE`
 * signals `delete`. Responds with 202, or with 400 for an entity name that no function registers.
 */
export async function signalEntity(request: ManagementRequest, name: string, key: string): Promise<void> {
  if (!request.engine.hasEntity(name)) {
    throw new InvalidRequestError(`No entity function named "${name}" is registered. Check the entity name in the URL.`);
  }
  const operation = request.method === 'DELETE' ? 'delete' : (request.url.searchParams.get('op') ?? '');

  const body = (await request.readBody()).toString('utf8');
  let input: unknown;
  if (body !== '') {
    if (request.hasJsonContentType()) {
      try {
        input = JSON.parse(body);
      } catch (error) {
        throw new InvalidRequestError(`The operation input is not valid JSON: ${(error as Error).message}.`);
      }
    } else {
      input = body;
    }
  }

  await request.engine.signalEntity(name, toEntityKey(key), operation, input);
  await request.engine.durable();
  request.sendEmpty(202);
}

/**
 * `GET entities[/{name}]?fetchState=&top=&lastOperationTimeFrom=&lastOperationTimeTo=`: lists the
 * existing entities of one entity function, or of all when no name is given, one page at a time with the `x-ms-continuation-token`
 * header. The last page has no token.
 */
export async function listEntitiesOfName(request: ManagementRequest, name: string | undefined): Promise<void> {
  const tokenHeader = request.headers[continuationTokenHeader];
  const continuationToken = typeof tokenHeader === 'string' && tokenHeader !== '' ? tokenHeader : undefined;
  let page: EntityListPage;
  try {
    page = await request.engine.listEntities(name, {
      top: readPositiveIntegerParameter(request.url, 'top'),
      continuationToken,
      lastOperationTimeFrom: readDateParameter(request.url, 'lastOperationTimeFrom'),
      lastOperationTimeTo: readDateParameter(request.url, 'lastOperationTimeTo'),
      fetchState: readBooleanParameter(request.url, 'fetchState', false),
    });
  } catch (error) {
    // The engine raises RangeError for a token it did not issue.
    if (error instanceof RangeError) {
      throw new InvalidRequestError(error.message);
    }
    throw error;
  }
  request.sendJson(200, page.entities, page.continuationToken ? { [continuationTokenHeader]: page.continuationToken } : {});
}
