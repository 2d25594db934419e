import type Database from 'better-sqlite3';
import type { EntityRow, InstanceRow } from './store';
import type { EntityListFilter, EntityListPage, InstanceStatus, ListFilter, ListPage } from './types';

export function parseJson(text: string | null | undefined): unknown {
  return text === null || text === undefined ? null : JSON.parse(text);
}

/** Converts an instance row to the status the management API returns. */
export function toInstanceStatus(row: InstanceRow, showInput: boolean): InstanceStatus {
  return {
    name: row.name,
    instanceId: row.instance_id,
    runtimeStatus: row.runtime_status,
    input: showInput ? parseJson(row.input) : null,
    output: parseJson(row.output),
    customStatus: parseJson(row.custom_status),
    createdTime: new Date(row.created_at).toISOString(),
    lastUpdatedTime: new Date(row.last_updated_at).toISOString(),
  };
}

/**
 * Lists instances in creation order, one page at a time. The continuation token carries the
 * position after the page's last instance, so pages stay stable while instances are added.
 */
export function listInstances(db: Database.Database, filter: ListFilter): ListPage {
  const conditions: string[] = [];
  const parameters: (string | number)[] = [];
  if (filter.runtimeStatus && filter.runtimeStatus.length > 0) {
    conditions.push(`runtime_status IN (${filter.runtimeStatus.map(() => '?').join(', ')})`);
    parameters.push(...filter.runtimeStatus);
  }
  if (filter.createdTimeFrom) {
    conditions.push('created_at >= ?');
    parameters.push(filter.createdTimeFrom.getTime());
  }
  if (filter.createdTimeTo) {
    conditions.push('created_at <= ?');
    parameters.push(filter.createdTimeTo.getTime());
  }
  if (filter.instanceIdPrefix) {
    conditions.push('substr(instance_id, 1, ?) = ?');
    parameters.push(filter.instanceIdPrefix.length, filter.instanceIdPrefix);
  }
  if (filter.continuationToken) {
    const position = decodeContinuationToken(filter.continuationToken);
    conditions.push('(created_at > ? OR (created_at = ? AND instance_id > ?))');
    parameters.push(position.createdAt, position.createdAt, position.instanceId);
  }

  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const pageSize = filter.top !== undefined && filter.top > 0 ? filter.top : undefined;
  const rows = db
    .prepare<unknown[], InstanceRow>(`SELECT * FROM instances ${where} ORDER BY created_at, instance_id LIMIT ?`)
    .all(...parameters, pageSize === undefined ? -1 : pageSize + 1);
  const hasMore = pageSize !== undefined && rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  const last = page[page.length - 1];
  return {
    instances: page.map((row) => toInstanceStatus(row, filter.showInput ?? false)),
    continuationToken: hasMore && last ? encodeContinuationToken(last.created_at, last.instance_id) : undefined,
  };
}

/**
 * Lists existing entities whose id starts with `@name@`, or every entity when `name` is
 * undefined, in id order, with a token for the next page.
 */
export function listEntities(db: Database.Database, name: string | undefined, filter: EntityListFilter): EntityListPage {
  const prefix = name === undefined ? '@' : `@${name.toLowerCase()}@`;
  const conditions = ['entity_exists = 1', 'substr(entity_id, 1, ?) = ?'];
  const parameters: (string | number)[] = [prefix.length, prefix];
  if (filter.lastOperationTimeFrom) {
    conditions.push('last_modified_at >= ?');
    parameters.push(filter.lastOperationTimeFrom.getTime());
  }
  if (filter.lastOperationTimeTo) {
    conditions.push('last_modified_at <= ?');
    parameters.push(filter.lastOperationTimeTo.getTime());
  }
  if (filter.continuationToken) {
    conditions.push('entity_id > ?');
    parameters.push(decodeEntityToken(filter.continuationToken));
  }

  const pageSize = filter.top !== undefined && filter.top > 0 ? filter.top : undefined;
  const rows = db
    .prepare<unknown[], EntityRow>(`SELECT * FROM entities WHERE ${conditions.join(' AND ')} ORDER BY entity_id LIMIT ?`)
    .all(...parameters, pageSize === undefined ? -1 : pageSize + 1);
  const hasMore = pageSize !== undefined && rows.length > pageSize;
  const page = hasMore ? rows.slice(0, pageSize) : rows;
  const last = page[page.length - 1];

  return {
    entities: page.map((row) => ({
      entityId: { name: row.name, key: row.key },
      lastOperationTime: new Date(row.last_modified_at).toISOString(),
      ...(filter.fetchState ? { state: parseJson(row.state) } : {}),
    })),
    continuationToken: hasMore && last ? Buffer.from(last.entity_id).toString('base64url') : undefined,
  };
}

function decodeEntityToken(token: string): string {
  const entityId = Buffer.from(token, 'base64url').toString('utf8');
  if (!entityId.startsWith('@')) {
    throw new RangeError(`Continuation token "${token}" is invalid. Pass the x-ms-continuation-token value of the previous page unchanged.`);
  }
  return entityId;
}

function encodeContinuationToken(createdAt: number, instanceId: string): string {
  return Buffer.from(JSON.stringify({ createdAt, instanceId })).toString('base64url');
}

function decodeContinuationToken(token: string): { createdAt: number; instanceId: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { createdAt: number; instanceId: string };
    if (typeof parsed.createdAt === 'number' && typeof parsed.instanceId === 'string') {
      return parsed;
    }
  } catch {
    // Reported below with the value.
  }
  throw new RangeError(`Continuation token "${token}" is invalid. Pass the x-ms-continuation-token value of the previous page unchanged.`);
}
