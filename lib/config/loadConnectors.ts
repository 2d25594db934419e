import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import jsonata, { type Expression } from 'jsonata';
import { applyInboundDefaults } from '../auth/applyInboundDefaults';
import { ConfigurationError } from '../errors';
import { parseCidr } from '../network/cidr';
import { findBlockedAddress, hostnameOf } from '../network/addressGuard';
import { connectorsSchema } from './connectorsSchema';
import { findOpaqueTypesWithJsonSteps } from './opaqueContentTypes';
import { compilePayloadSchema } from './payloadSchema';
import { parseJsonPointer } from '../redaction/redactPayload';
import { isReportedSchemaError, toConfigurationIssue, type ConfigurationIssue } from './schemaIssues';
import type { CompiledDestinationExpressions, CompiledExpressions, Connector, ConnectorConfig, Connectors, ConnectorsFile } from './types';

/** Maximum number of issues listed in one error, so that a badly broken file stays readable. */
const maxIssuesInMessage = 20;

let validateConnectorsFile: ReturnType<Ajv2020['compile']> | undefined;

/**
 * Reads, validates and compiles the connectors file. Throws a ConfigurationError that
 * names the file and lists each problem with its JSON path and fix.
 */
export function loadConnectors(file: string): Connectors {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigurationError(
        `Connectors file ${file} does not exist. Create it (connectors.sample.json shows the format) ` +
          'or set CONNECTORS_FILE to its path.',
        { cause: error },
      );
    }
    throw new ConfigurationError(`Connectors file ${file} could not be read (${code ?? 'unknown error'}). Check its permissions.`, {
      cause: error,
    });
  }
  return parseConnectors(text, file);
}

/** Validates and compiles the text of a connectors file. `file` is used in error messages. */
export function parseConnectors(text: string, file: string): Connectors {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(
      `Connectors file ${file} is not valid JSON: ${(error as Error).message}. Fix the JSON syntax.`,
      { cause: error },
    );
  }

  const validate = getValidator();
  if (!validate(document)) {
    throwIssues(file, (validate.errors ?? []).filter(isReportedSchemaError).map(toConfigurationIssue));
  }

  const connectorsFile = document as ConnectorsFile;
  const issues = [
    ...findDuplicateIds(connectorsFile),
    ...findBlockedLiteralAddresses(connectorsFile),
    ...findOpaqueTypesWithJsonSteps(connectorsFile),
    ...findInvalidRedactPointers(connectorsFile),
    ...findDestinationDataFactoryTransforms(connectorsFile),
  ];
  const list = connectorsFile.connectors.map((connector, index) => ({
    ...applyInboundDefaults(connector, connectorsFile),
    expressions: compileExpressions(connector, `/connectors/${index}`, issues),
    destinationExpressions: compileDestinationExpressions(connector, `/connectors/${index}`, issues),
    configurationVersion: hashConnectorDefinition(connector),
    payloadValidator: compilePayloadSchema(connector, path.dirname(path.resolve(file)), `/connectors/${index}`, issues),
  }));
  throwIssues(file, issues);

  return { file, list, byId: new Map(list.map((connector): [string, Connector] => [connector.id, connector])) };
}

function getValidator(): ReturnType<Ajv2020['compile']> {
  if (validateConnectorsFile === undefined) {
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true, discriminator: true, strict: true });
    addFormats(ajv, ['uri']);
    ajv.addFormat('cidr', (value: string) => parseCidr(value) !== undefined);
    validateConnectorsFile = ajv.compile(connectorsSchema);
  }
  return validateConnectorsFile;
}

function throwIssues(file: string, issues: ConfigurationIssue[]): void {
  if (issues.length === 0) {
    return;
  }

  const lines = issues.slice(0, maxIssuesInMessage).map((issue) => `- ${issue.path}: ${issue.problem}. Fix: ${issue.fix}.`);
  if (issues.length > maxIssuesInMessage) {
    lines.push(`- and ${issues.length - maxIssuesInMessage} more issues.`);
  }
  throw new ConfigurationError(`Connectors file ${file} is invalid:\n${lines.join('\n')}`);
}

function findDuplicateIds(connectorsFile: ConnectorsFile): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];
  const connectorIndexById = new Map<string, number>();

  connectorsFile.connectors.forEach((connector, connectorIndex) => {
    const firstIndex = connectorIndexById.get(connector.id);
    if (firstIndex !== undefined) {
      issues.push({
        path: `/connectors/${connectorIndex}/id`,
        problem: `connector id "${connector.id}" is already used by /connectors/${firstIndex}`,
        fix: 'give each connector its own id',
      });
    } else {
      connectorIndexById.set(connector.id, connectorIndex);
    }

    const destinationIndexById = new Map<string, number>();
    connector.destinations.forEach((destination, destinationIndex) => {
      const firstDestinationIndex = destinationIndexById.get(destination.id);
      if (firstDestinationIndex !== undefined) {
        issues.push({
          path: `/connectors/${connectorIndex}/destinations/${destinationIndex}/id`,
          problem: `destination id "${destination.id}" is already used by /connectors/${connectorIndex}/destinations/${firstDestinationIndex}`,
          fix: 'give each destination of a connector its own id',
        });
      } else {
        destinationIndexById.set(destination.id, destinationIndex);
      }
    });
  });
  return issues;
}

/** Reports destination URLs whose host is a literal non-public IP address outside their allowedPrivateRanges. */
function findBlockedLiteralAddresses(connectorsFile: ConnectorsFile): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];

  connectorsFile.connectors.forEach((connector, connectorIndex) => {
    connector.destinations.forEach((destination, destinationIndex) => {
      const hostname = hostnameOf(destination.url);
      if (net.isIP(hostname) === 0 || findBlockedAddress([hostname], destination.allowedPrivateRanges) === undefined) {
        return;
      }

      const singleAddressRange = net.isIPv6(hostname) ? `${hostname}/128` : `${hostname}/32`;
      issues.push({
        path: `/connectors/${connectorIndex}/destinations/${destinationIndex}/url`,
        problem: `host ${hostname} is not a public address and is outside allowedPrivateRanges`,
        fix: `add a range that contains it, such as "${singleAddressRange}", to allowedPrivateRanges if this destination is intended`,
      });
    });
  });
  return issues;
}

/** Reports `redact` entries that are not JSON pointers to a part of the payload. */
function findInvalidRedactPointers(connectorsFile: ConnectorsFile): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];

  connectorsFile.connectors.forEach((connector, connectorIndex) => {
    (connector.redact ?? []).forEach((pointer, pointerIndex) => {
      try {
        parseJsonPointer(pointer);
      } catch (error) {
        issues.push({
          path: `/connectors/${connectorIndex}/redact/${pointerIndex}`,
          problem: `"${pointer}" is not a valid JSON pointer (RFC 6901): ${(error as Error).message}`,
          fix: 'write a pointer to one value of the payload, such as "/customer/email" or "/items/0/card~1number" for the key "card/number"',
        });
      }
    });
  });
  return issues;
}

/**
 * Reports Data Factory transforms on destinations. A pipeline run writes one transformed
 * payload per message, so only the connector's transform may run on Data Factory.
 */
function findDestinationDataFactoryTransforms(connectorsFile: ConnectorsFile): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];

  connectorsFile.connectors.forEach((connector, connectorIndex) => {
    connector.destinations.forEach((destination, destinationIndex) => {
      if (destination.transform?.type === 'adf') {
        issues.push({
          path: `/connectors/${connectorIndex}/destinations/${destinationIndex}/transform/type`,
          problem: 'a Data Factory transform ("type": "adf") runs only at connector level',
          fix: `move it to /connectors/${connectorIndex}/transform, or give destination ${destination.id} a "jsonata" transform`,
        });
      }
    });
  });
  return issues;
}

function compileExpressions(connector: ConnectorConfig, connectorPath: string, issues: ConfigurationIssue[]): CompiledExpressions {
  const expressions: CompiledExpressions = {};

  if (connector.entity !== undefined) {
    expressions.entityKey = compileExpression(connector.entity.key, `${connectorPath}/entity/key`, issues);
    if (connector.entity.version !== undefined) {
      expressions.entityVersion = compileExpression(connector.entity.version, `${connectorPath}/entity/version`, issues);
    }
  }
  if (connector.transform?.type === 'jsonata') {
    expressions.transform = compileExpression(connector.transform.expression, `${connectorPath}/transform/expression`, issues);
  }
  return expressions;
}

function compileDestinationExpressions(
  connector: ConnectorConfig,
  connectorPath: string,
  issues: ConfigurationIssue[],
): Map<string, CompiledDestinationExpressions> {
  const byDestinationId = new Map<string, CompiledDestinationExpressions>();
  connector.destinations.forEach((destination, index) => {
    const destinationPath = `${connectorPath}/destinations/${index}`;
    const expressions: CompiledDestinationExpressions = {};
    if (destination.filter !== undefined) {
      expressions.filter = compileExpression(destination.filter, `${destinationPath}/filter`, issues);
    }
    if (destination.transform?.type === 'jsonata') {
      expressions.transform = compileExpression(destination.transform.expression, `${destinationPath}/transform/expression`, issues);
    }
    byDestinationId.set(destination.id, expressions);
  });
  return byDestinationId;
}

/**
 * Returns the SHA-256 of the connector's definition with defaults applied, in a canonical JSON
 * form (object keys sorted), so that reordering keys in the file does not change it.
 */
export function hashConnectorDefinition(connector: ConnectorConfig): string {
  return createHash('sha256').update(canonicalJson(connector)).digest('hex');
}

/** Orders strings by UTF-16 code units, which unlike `localeCompare` does not depend on the locale. */
function compareCodeUnits(left: string, right: string): number {
  if (left < right) {
    return -1;
  }
  if (left > right) {
    return 1;
  }
  return 0;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entryValue]) => entryValue !== undefined)
      .sort(([left], [right]) => compareCodeUnits(left, right));
    return `{${entries.map(([key, entryValue]) => `${JSON.stringify(key)}:${canonicalJson(entryValue)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function compileExpression(text: string, path: string, issues: ConfigurationIssue[]): Expression | undefined {
  try {
    return jsonata(text);
  } catch (error) {
    const { message, position } = error as { message?: string; position?: number };
    const where = position === undefined ? '' : ` at position ${position}`;
    issues.push({
      path,
      problem: `is not a valid JSONata expression: ${message ?? String(error)}${where}`,
      fix: 'correct the JSONata syntax',
    });
    return undefined;
  }
}
