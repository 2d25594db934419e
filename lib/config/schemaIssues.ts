import type { ErrorObject } from 'ajv';
import { toAuthConfigurationIssue } from '../auth/authSchemaIssues';

/** One problem found in the connectors file, located by a JSON Pointer. */
export interface ConfigurationIssue {
  /** JSON Pointer of the offending value, such as `/connectors/0/destinations/0/url`. */
  path: string;
  problem: string;
  fix: string;
}

/**
 * Returns false for an error that only repeats others. A failed `then` or `else` branch is
 * reported as its own errors and again as one `if` error, which names no value.
 */
export function isReportedSchemaError(error: ErrorObject): boolean {
  return error.keyword !== 'if';
}

/** Converts an Ajv validation error into an issue with the path of the offending value and a fix. */
export function toConfigurationIssue(error: ErrorObject): ConfigurationIssue {
  const params = error.params as Record<string, unknown>;
  const authIssue = toAuthConfigurationIssue(error);
  if (authIssue !== undefined) {
    return authIssue;
  }

  switch (error.keyword) {
    case 'required': {
      const property = String(params.missingProperty);
      return {
        path: `${error.instancePath}/${property}`,
        problem: `required property "${property}" is missing`,
        fix: fixForMissingProperty(property),
      };
    }
    case 'additionalProperties': {
      const property = String(params.additionalProperty);
      return {
        path: `${error.instancePath}/${property}`,
        problem: `"${property}" is not a known property`,
        fix: 'remove it or correct its spelling',
      };
    }
    case 'format':
      return {
        path: error.instancePath,
        problem: `must be a valid ${String(params.format)}`,
        fix: fixForFormat(String(params.format)),
      };
    case 'pattern':
      return {
        path: error.instancePath,
        problem: `does not match the pattern ${String(params.pattern)}`,
        fix: fixForPattern(error.instancePath),
      };
    case 'enum':
      return {
        path: error.instancePath,
        problem: `must be one of ${JSON.stringify(params.allowedValues)}`,
        fix: 'use one of these values',
      };
    case 'const':
      return {
        path: error.instancePath,
        problem: `must be ${JSON.stringify(params.allowedValue)}`,
        fix: `set it to ${JSON.stringify(params.allowedValue)}`,
      };
    case 'type':
      return {
        path: error.instancePath,
        problem: `must be of type ${String(params.type)}`,
        fix: `use a value of type ${String(params.type)}`,
      };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        path: error.instancePath,
        problem: `must be ${String(params.comparison)} ${String(params.limit)}`,
        fix: `use a number ${String(params.comparison)} ${String(params.limit)}`,
      };
    case 'minItems':
    case 'maxItems': {
      const bound = `${error.keyword === 'minItems' ? 'at least' : 'at most'} ${String(params.limit)} ${params.limit === 1 ? 'item' : 'items'}`;
      return { path: error.instancePath, problem: `must have ${bound}`, fix: `use a list of ${bound}` };
    }
    default:
      return {
        path: error.instancePath,
        problem: error.message ?? `fails the "${error.keyword}" rule`,
        fix: 'change the value to meet this rule',
      };
  }
}

function fixForMissingProperty(property: string): string {
  switch (property) {
    case 'auth':
      return (
        'add "auth": {"type": "hmac-sha256", "header": "X-Signature", "secretRef": "<SETTING_NAME>"}, ' +
        'or "auth": {"type": "none"} to accept unsigned requests'
      );
    case 'secretRef':
      return 'add "secretRef" with the name of the setting that contains the secret, or a list of two names while a secret is rotated';
    case 'header':
      return 'add "header" with the name of the request header to read, such as "X-Signature"';
    case 'username':
      return 'add "username" with the user-id that the partner sends in its Basic credentials';
    case 'ranges':
      return 'add "ranges" with the CIDR ranges of the partner, such as ["203.0.113.0/24", "2001:db8::/32"]';
    case 'destinations':
      return 'add "destinations" with at least one destination';
    default:
      return `add "${property}"`;
  }
}

function fixForFormat(format: string): string {
  switch (format) {
    case 'uri':
      return 'use an absolute http or https URL, such as "https://erp.example.com/orders"';
    case 'cidr':
      return 'use CIDR notation, such as "127.0.0.0/8" or "fd00::/8"';
    default:
      return `use a valid ${format}`;
  }
}

function fixForPattern(path: string): string {
  const property = path.split('/').pop() ?? '';
  if (property === 'id' || property === 'type') {
    return 'use 1 to 63 lowercase letters, digits and hyphens, starting with a letter or digit';
  }
  if (property === 'url') {
    return 'use an absolute http or https URL, such as "https://erp.example.com/orders"';
  }
  if (property === 'secretRef') {
    return 'use a setting name of letters, digits and underscores, such as "ORDERS_HMAC_SECRET"';
  }
  if (path.includes('/acceptedContentTypes/')) {
    return 'use a media type without parameters, such as "application/x-ndjson" or "text/csv"';
  }
  return 'use a valid HTTP header name, such as "X-Signature"';
}
