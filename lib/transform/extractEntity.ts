import type { Connector } from '../config/types';
import { PermanentError } from '../errors';
import type { EntityVersion } from './compareVersions';
import { evaluateExpression } from './evaluateExpression';

/** The business entity a message is about, as read from its payload. */
export interface EntityReference {
  type: string;
  key: string;
  /** Undefined when the connector has no version expression. */
  version?: EntityVersion;
}

/**
 * Reads the entity key and version of `payload` with the connector's expressions.
 * Returns undefined when the connector declares no entity. Throws a PermanentError when
 * the key or a configured version is missing or not a string or number.
 */
export async function extractEntity(connector: Connector, payload: unknown, messageId: string): Promise<EntityReference | undefined> {
  const entity = connector.entity;
  const { entityKey, entityVersion } = connector.expressions;
  if (entity === undefined || entityKey === undefined) {
    return undefined;
  }

  const keyResult = await evaluateExpression(entityKey, payload, `entity key expression of connector ${connector.id}`);
  const key = toScalar(keyResult, `entity key expression "${entity.key}"`, connector.id, messageId, 'entity.key');
  const reference: EntityReference = { type: entity.type, key: String(key) };

  if (entity.version !== undefined && entityVersion !== undefined) {
    const versionResult = await evaluateExpression(entityVersion, payload, `entity version expression of connector ${connector.id}`);
    reference.version = toScalar(versionResult, `entity version expression "${entity.version}"`, connector.id, messageId, 'entity.version');
  }
  return reference;
}

function toScalar(result: unknown, description: string, connectorId: string, messageId: string, setting: string): EntityVersion {
  if (typeof result === 'number' && Number.isFinite(result)) {
    return result;
  }
  if (typeof result === 'string' && result !== '') {
    return result;
  }

  throw new PermanentError(
    `The ${description} of connector ${connectorId} returned ${describeResult(result)} for message ${messageId}, but it must return a non-empty string or a number. ` +
      `Check that the payload contains the field, or correct ${setting} in the connectors file.`,
  );
}

function describeResult(result: unknown): string {
  if (result === undefined || result === null || result === '') {
    return 'no value';
  }
  if (Array.isArray(result)) {
    return 'a list';
  }
  if (typeof result === 'number') {
    return `the number ${result}`;
  }
  if (typeof result === 'object') {
    return 'an object';
  }
  return `a ${typeof result}`;
}
