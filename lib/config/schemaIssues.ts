import type { ErrorObject } from 'ajv';

/** One problem found in the connectors file, located by a JSON Pointer. */
export interface ConfigurationIssue {
  /** JSON Pointer of the offending value, such as `/connectors/0/destinations/0/url`. */
  path: string;
  problem: string;
  fix: string;
}

/** Converts an Ajv validation error into an issue with the path of the offending value and a fix. */
export function toConfigurationIssue(error: ErrorObject): ConfigurationIssue {
  const params = error.params as Record<string, unknown>;

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
    case 'discriminator':
      return {
        path: `${error.instancePath}/${String(params.tag)}`,
        problem: 'the auth type is missing or unknown',
        fix: 'set "type" to "hmac-sha256" or, to accept unsigned requests, to "none"',
      };
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
      return 'add "secretRef" with the name of the setting that contains the HMAC secret';
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
  return 'use a valid HTTP header name, such as "X-Signature"';
}
