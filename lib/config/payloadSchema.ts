import fs from 'node:fs';
import path from 'node:path';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { errorMessageOf } from '../errors';
import type { ConfigurationIssue } from './schemaIssues';
import type { ConnectorConfig } from './types';

/** One way in which a payload fails its connector's JSON Schema. */
export interface SchemaError {
  /** JSON Pointer (RFC 6901) of the offending value; the empty string is the whole payload. */
  pointer: string;
  message: string;
}

/** Validates a parsed JSON payload and returns its schema errors, none when it is valid. */
export type PayloadValidator = (payload: unknown) => SchemaError[];

/**
 * Compiles the connector's `inbound.schema` or the file that `inbound.schemaFile` names,
 * relative to `connectorsFolder`, as JSON Schema draft 2020-12 with the formats of ajv-formats.
 * Returns undefined, after adding an issue, when the schema is missing, unreadable or invalid.
 */
export function compilePayloadSchema(
  connector: ConnectorConfig,
  connectorsFolder: string,
  connectorPath: string,
  issues: ConfigurationIssue[],
): PayloadValidator | undefined {
  const { schema, schemaFile } = connector.inbound;
  if (schema !== undefined && schemaFile !== undefined) {
    issues.push({
      path: `${connectorPath}/inbound/schemaFile`,
      problem: 'is set together with inbound.schema',
      fix: 'keep either the inline schema or the schema file, not both',
    });
    return undefined;
  }

  if (schema !== undefined) {
    return compileSchema(schema, `${connectorPath}/inbound/schema`, 'the schema', issues);
  }
  if (schemaFile !== undefined) {
    const filePath = path.resolve(connectorsFolder, schemaFile);
    const document = readSchemaFile(filePath, `${connectorPath}/inbound/schemaFile`, issues);
    return document === undefined ? undefined : compileSchema(document, `${connectorPath}/inbound/schemaFile`, `schema file ${filePath}`, issues);
  }
  return undefined;
}

function readSchemaFile(filePath: string, issuePath: string, issues: ConfigurationIssue[]): unknown {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? errorMessageOf(error);
    issues.push({
      path: issuePath,
      problem: `schema file ${filePath} cannot be read (${code})`,
      fix: 'give the path of a JSON Schema file relative to the connectors file',
    });
    return undefined;
  }

  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    issues.push({ path: issuePath, problem: `schema file ${filePath} is not valid JSON: ${errorMessageOf(error)}`, fix: 'fix the JSON syntax' });
    return undefined;
  }
}

function compileSchema(schema: unknown, issuePath: string, description: string, issues: ConfigurationIssue[]): PayloadValidator | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    issues.push({ path: issuePath, problem: `${description} is not a JSON object`, fix: 'write the schema as a JSON object' });
    return undefined;
  }

  // Each schema gets its own Ajv instance, so that two connectors may use the same $id.
  // strict is off because the JSON Schema specification lets a schema carry unknown keywords,
  // such as "x-owner", and Ajv's strict mode rejects them. The meta-schema check still runs.
  // NOTE: allErrors reports every violation, so a large payload with many violations costs
  // memory in proportion to its size, up to the connector's size limits.
  const ajv = new Ajv2020({ allErrors: true, strict: false, logger: false });
  addFormats(ajv);
  try {
    const validate = ajv.compile(schema);
    return (payload) => (validate(payload) ? [] : (validate.errors ?? []).map(toSchemaError));
  } catch (error) {
    issues.push({
      path: issuePath,
      problem: `${description} is not a valid JSON Schema (draft 2020-12): ${errorMessageOf(error)}`,
      fix: 'correct the schema so that it meets the draft 2020-12 meta-schema and every $ref resolves',
    });
    return undefined;
  }
}

/**
 * Converts an Ajv error into a pointer and message. For a missing or unexpected property the
 * pointer names that property, so that each error points at one member.
 */
export function toSchemaError(error: ErrorObject): SchemaError {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const property = String(params.missingProperty);
      return { pointer: `${error.instancePath}/${escapePointerToken(property)}`, message: `required property "${property}" is missing` };
    }
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const property = String(params.additionalProperty ?? params.unevaluatedProperty);
      return { pointer: `${error.instancePath}/${escapePointerToken(property)}`, message: `property "${property}" is not allowed by the schema` };
    }
    case 'enum':
      return { pointer: error.instancePath, message: `must be one of ${JSON.stringify(params.allowedValues)}` };
    case 'const':
      return { pointer: error.instancePath, message: `must be ${JSON.stringify(params.allowedValue)}` };
    default:
      return { pointer: error.instancePath, message: error.message ?? `fails the "${error.keyword}" keyword` };
  }
}

/** Escapes a property name for use as a JSON Pointer reference token (RFC 6901, section 3). */
function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
