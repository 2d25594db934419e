import { defaultToleranceInSeconds } from './authConfig';

/** Patterns that the connectors schema shares with the auth definitions. */
export interface AuthSchemaPatterns {
  /** An HTTP header name. */
  headerName: string;
  /** The name of a setting. */
  settingName: string;
}

/** Largest accepted `toleranceInSeconds`: one day. */
const maxToleranceInSeconds = 86_400;

/**
 * Returns the `$defs` of `inbound.auth` for the connectors schema: `auth` (one scheme,
 * `none`, or a list of schemes), `authScheme` (the schemes allowed in a list), `secretRef`
 * and `cidrList`. They refer to each other by `#/$defs/...`, so the connectors schema must
 * spread them into its own `$defs`.
 */
export function createAuthSchemaDefinitions(patterns: AuthSchemaPatterns) {
  const header = { type: 'string', pattern: patterns.headerName } as const;
  const toleranceInSeconds = { type: 'integer', minimum: 1, maximum: maxToleranceInSeconds } as const;
  const ipAllowlist = { $ref: '#/$defs/cidrList' } as const;

  const schemes = [
    {
      properties: {
        type: { const: 'hmac-sha256' },
        header: { ...header, default: 'X-Signature' },
        secretRef: { $ref: '#/$defs/secretRef' },
        ipAllowlist,
      },
      required: ['type', 'secretRef'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'hmac' },
        header,
        algorithm: { enum: ['sha256', 'sha512'], default: 'sha256' },
        encoding: { enum: ['hex', 'base64'], default: 'hex' },
        prefix: { type: 'string', maxLength: 64, default: '' },
        timestampHeader: header,
        toleranceInSeconds,
        secretRef: { $ref: '#/$defs/secretRef' },
        ipAllowlist,
      },
      required: ['type', 'header', 'secretRef'],
      dependentRequired: { toleranceInSeconds: ['timestampHeader'] },
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'standard-webhooks' },
        secretRef: { $ref: '#/$defs/secretRef' },
        toleranceInSeconds: { ...toleranceInSeconds, default: defaultToleranceInSeconds },
        ipAllowlist,
      },
      required: ['type', 'secretRef'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'api-key' },
        header: { ...header, default: 'X-Api-Key' },
        secretRef: { $ref: '#/$defs/secretRef' },
        ipAllowlist,
      },
      required: ['type', 'secretRef'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'basic' },
        // RFC 7617: the user-id must not contain a colon.
        username: { type: 'string', minLength: 1, pattern: '^[^:]+$' },
        secretRef: { $ref: '#/$defs/secretRef' },
        ipAllowlist,
      },
      required: ['type', 'username', 'secretRef'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'ip-allowlist' },
        ranges: { $ref: '#/$defs/cidrList' },
      },
      required: ['type', 'ranges'],
      additionalProperties: false,
    },
  ];

  const none = {
    properties: { type: { const: 'none' } },
    required: ['type'],
    additionalProperties: false,
  };

  return {
    auth: {
      if: { type: 'array' },
      then: { type: 'array', minItems: 1, items: { $ref: '#/$defs/authScheme' } },
      else: { type: 'object', discriminator: { propertyName: 'type' }, oneOf: [none, ...schemes] },
    },
    authScheme: { type: 'object', discriminator: { propertyName: 'type' }, oneOf: schemes },
    secretRef: {
      if: { type: 'array' },
      then: { type: 'array', minItems: 1, maxItems: 2, uniqueItems: true, items: { type: 'string', pattern: patterns.settingName } },
      else: { type: 'string', pattern: patterns.settingName },
    },
    cidrList: { type: 'array', minItems: 1, items: { type: 'string', format: 'cidr' } },
  };
}
