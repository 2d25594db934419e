/**
 * JSON Schema (draft 2020-12) of the connectors file. Ajv fills in the `default` values,
 * so a validated file has every optional setting of a destination and of `inbound`.
 * The `cidr` format is registered by the loader.
 */

import { defaultMaxDecodedBytes } from '../encoding/contentEncoding';
import { mediaTypePattern } from '../encoding/mediaType';
import { createAuthSchemaDefinitions } from '../auth/authSchema';
import { defaultMaxConcurrentRequests } from '../limits/concurrencyLimit';

export const idPattern = '^[a-z0-9][a-z0-9-]{0,62}$';

/** An HTTP header name (an RFC 9110 token). */
const headerNamePattern = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

/** The name of a setting, as used for environment variables and app settings. */
const settingNamePattern = '^[A-Za-z_][A-Za-z0-9_]*$';

export const defaultMaxBodyBytes = 1_048_576;

export const connectorsSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['connectors'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    trustedProxies: { $ref: '#/$defs/trustedProxies' },
    connectors: {
      type: 'array',
      items: { $ref: '#/$defs/connector' },
    },
  },
  $defs: {
    id: { type: 'string', pattern: idPattern },
    jsonataExpression: { type: 'string', minLength: 1 },
    connector: {
      type: 'object',
      required: ['id', 'inbound', 'destinations'],
      additionalProperties: false,
      properties: {
        id: { $ref: '#/$defs/id' },
        inbound: { $ref: '#/$defs/inbound' },
        dedupKey: {
          type: 'object',
          required: ['header'],
          additionalProperties: false,
          properties: { header: { type: 'string', pattern: headerNamePattern } },
        },
        entity: {
          type: 'object',
          required: ['type', 'key'],
          additionalProperties: false,
          properties: {
            type: { $ref: '#/$defs/id' },
            key: { $ref: '#/$defs/jsonataExpression' },
            version: { $ref: '#/$defs/jsonataExpression' },
          },
        },
        transform: {
          type: 'object',
          required: ['type', 'expression'],
          additionalProperties: false,
          properties: {
            type: { const: 'jsonata' },
            expression: { $ref: '#/$defs/jsonataExpression' },
          },
        },
        redact: { type: 'array', items: { type: 'string' }, uniqueItems: true, default: [] },
        destinations: {
          type: 'array',
          minItems: 1,
          items: { $ref: '#/$defs/destination' },
        },
      },
    },
    inbound: {
      type: 'object',
      required: ['auth'],
      additionalProperties: false,
      properties: {
        auth: { $ref: '#/$defs/auth' },
        trustedProxies: { $ref: '#/$defs/trustedProxies' },
        maxBodyBytes: { type: 'integer', minimum: 1, maximum: 104_857_600, default: defaultMaxBodyBytes },
        maxDecodedBytes: { type: 'integer', minimum: 1, maximum: 268_435_456, default: defaultMaxDecodedBytes },
        acceptedContentTypes: { type: 'array', items: { type: 'string', pattern: mediaTypePattern }, default: [] },
        schema: { type: 'object' },
        schemaFile: { type: 'string', minLength: 1 },
        rateLimit: {
          type: 'object',
          required: ['requestsPerSecond', 'burst'],
          additionalProperties: false,
          properties: {
            requestsPerSecond: { type: 'number', exclusiveMinimum: 0 },
            burst: { type: 'integer', minimum: 1 },
          },
        },
        maxConcurrentRequests: { type: 'integer', minimum: 1, default: defaultMaxConcurrentRequests },
      },
    },
    ...createAuthSchemaDefinitions({ headerName: headerNamePattern, settingName: settingNamePattern }),
    trustedProxies: { type: 'array', items: { type: 'string', format: 'cidr' } },
    destination: {
      type: 'object',
      required: ['id', 'url'],
      additionalProperties: false,
      properties: {
        id: { $ref: '#/$defs/id' },
        url: { type: 'string', format: 'uri', pattern: '^https?://' },
        method: { enum: ['POST', 'PUT', 'PATCH'], default: 'POST' },
        timeoutInMilliseconds: { type: 'integer', minimum: 1, maximum: 600_000, default: 10_000 },
        allowedPrivateRanges: {
          type: 'array',
          items: { type: 'string', format: 'cidr' },
          default: [],
        },
        retry: { $ref: '#/$defs/retry', default: {} },
      },
    },
    retry: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxAttempts: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
        firstIntervalInMilliseconds: { type: 'integer', minimum: 1, default: 1000 },
        backoffCoefficient: { type: 'number', minimum: 1, default: 2 },
        maxIntervalInMilliseconds: { type: 'integer', minimum: 1, default: 60_000 },
      },
    },
  },
} as const;
