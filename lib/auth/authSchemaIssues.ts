import type { ErrorObject } from 'ajv';
import type { ConfigurationIssue } from '../config/schemaIssues';

/** The `type` values of `inbound.auth`, for error messages. */
export const authTypesInMessage = '"hmac-sha256", "hmac", "standard-webhooks", "api-key", "basic" or "ip-allowlist"';

/**
 * Returns the issue for a schema error in `inbound.auth` whose generic wording would not
 * say what to write, or undefined to use the generic wording.
 */
export function toAuthConfigurationIssue(error: ErrorObject): ConfigurationIssue | undefined {
  const params = error.params as Record<string, unknown>;
  const property = error.instancePath.split('/').pop();

  if (error.keyword === 'discriminator') {
    const inList = /\/auth\/\d+$/.test(error.instancePath);
    return {
      path: `${error.instancePath}/${String(params.tag)}`,
      problem: inList ? 'the auth type in this list is missing or unknown' : 'the auth type is missing or unknown',
      fix: inList
        ? `set "type" to ${authTypesInMessage}, because "none" is allowed only on its own and not in a list`
        : `set "type" to ${authTypesInMessage}, or to "none" to accept unauthenticated requests`,
    };
  }

  if (property === 'secretRef' && ['type', 'minItems', 'maxItems', 'uniqueItems'].includes(error.keyword)) {
    return {
      path: error.instancePath,
      problem: 'must be a setting name or a list of one or two different setting names',
      fix: 'use "SETTING_NAME", or ["CURRENT_SETTING", "NEXT_SETTING"] while the partner changes to a new secret',
    };
  }

  if (error.keyword === 'dependentRequired' && params.property === 'toleranceInSeconds') {
    return {
      path: `${error.instancePath}/toleranceInSeconds`,
      problem: 'applies only to a signed timestamp, and "timestampHeader" is not set',
      fix: 'add "timestampHeader" with the header that contains the Unix time in seconds, or remove "toleranceInSeconds"',
    };
  }
  return undefined;
}
