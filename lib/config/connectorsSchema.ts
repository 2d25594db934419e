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

/** An HTTP header value (RFC 9110 field-value): tabs, spaces and visible characters, no line breaks. */
const headerValuePattern = '^[\\t\\x20-\\x7e\\x80-\\uffff]*$';

/** The name of a setting, as used for environment variables and app settings. */
const settingNamePattern = '^[A-Za-z_][A-Za-z0-9_]*$';

export const defaultMaxBodyBytes = 1_048_576;

/** A Data Factory pipeline name: a letter, digit or underscore first, and none of < > * # . % & : \ + ? / after it. */
const dataFactoryPipelineNamePattern = '^[A-Za-z0-9_][^<>*#.%&:\\\\+?/]*$';

export const defaultDataFactoryTimeoutInMinutes = 60;
export const defaultDataFactoryPollIntervalInSeconds = 15;

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
        transform: { $ref: '#/$defs/transform' },
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
        connectTimeoutInMilliseconds: { type: 'integer', minimum: 1, maximum: 600_000, default: 5_000 },
        headersTimeoutInMilliseconds: { type: 'integer', minimum: 1, maximum: 600_000, default: 10_000 },
        responseBodyStartBytes: { type: 'integer', minimum: 0, maximum: 1_048_576, default: 4_096 },
        maxRedirects: { type: 'integer', minimum: 0, maximum: 10, default: 3 },
        allowedPrivateRanges: {
          type: 'array',
          items: { type: 'string', format: 'cidr' },
          default: [],
        },
        retry: { $ref: '#/$defs/retry', default: {} },
        headers: {
          type: 'object',
          propertyNames: { pattern: headerNamePattern },
          additionalProperties: { type: 'string', pattern: headerValuePattern },
          default: {},
        },
        forwardHeaders: { type: 'array', items: { type: 'string', pattern: headerNamePattern }, uniqueItems: true, default: [] },
        auth: { $ref: '#/$defs/outboundAuth' },
        signing: {
          type: 'object',
          required: ['type', 'secretRef'],
          additionalProperties: false,
          properties: {
            type: { const: 'standard-webhooks' },
            secretRef: { type: 'string', pattern: settingNamePattern },
          },
        },
        clientCertificate: { $ref: '#/$defs/clientCertificate' },
        caCertificateRef: { type: 'string', pattern: settingNamePattern },
        filter: { $ref: '#/$defs/jsonataExpression' },
        transform: { $ref: '#/$defs/transform' },
        circuitBreaker: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            failureThreshold: { type: 'integer', minimum: 1, maximum: 1000, default: 5 },
            coolDownInMilliseconds: { type: 'integer', minimum: 1, default: 30_000 },
          },
        },
        rateLimit: {
          type: 'object',
          required: ['requestsPerSecond', 'burst'],
          additionalProperties: false,
          properties: {
            requestsPerSecond: { type: 'number', exclusiveMinimum: 0 },
            burst: { type: 'integer', minimum: 1 },
          },
        },
        maxConcurrentRequests: { type: 'integer', minimum: 1, maximum: 10_000, default: 16 },
        ordering: { enum: ['none', 'fifoPerEntity'], default: 'none' },
      },
    },
    transform: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['jsonata', 'adf'] } },
      discriminator: { propertyName: 'type' },
      oneOf: [
        {
          type: 'object',
          required: ['type', 'expression'],
          additionalProperties: false,
          properties: {
            type: { const: 'jsonata' },
            expression: { $ref: '#/$defs/jsonataExpression' },
          },
        },
        {
          type: 'object',
          required: ['type', 'pipelineName'],
          additionalProperties: false,
          properties: {
            type: { const: 'adf' },
            // The constraint that @azure/arm-datafactory 12.0.0 checks before it sends a request.
            pipelineName: { type: 'string', minLength: 1, maxLength: 260, pattern: dataFactoryPipelineNamePattern },
            timeoutInMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 10_080, default: defaultDataFactoryTimeoutInMinutes },
            pollIntervalInSeconds: { type: 'number', minimum: 1, maximum: 3_600, default: defaultDataFactoryPollIntervalInSeconds },
          },
        },
      ],
    },
    outboundAuth: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['bearer', 'api-key', 'basic', 'oauth2-client-credentials'] } },
      discriminator: { propertyName: 'type' },
      oneOf: [
        {
          type: 'object',
          required: ['type', 'secretRef'],
          additionalProperties: false,
          properties: { type: { const: 'bearer' }, secretRef: { type: 'string', pattern: settingNamePattern } },
        },
        {
          type: 'object',
          required: ['type', 'header', 'secretRef'],
          additionalProperties: false,
          properties: {
            type: { const: 'api-key' },
            header: { type: 'string', pattern: headerNamePattern },
            secretRef: { type: 'string', pattern: settingNamePattern },
          },
        },
        {
          type: 'object',
          required: ['type', 'username', 'secretRef'],
          additionalProperties: false,
          properties: {
            type: { const: 'basic' },
            username: { type: 'string', minLength: 1, pattern: '^[^:]*$' },
            secretRef: { type: 'string', pattern: settingNamePattern },
          },
        },
        {
          type: 'object',
          required: ['type', 'tokenUrl', 'clientId', 'secretRef'],
          additionalProperties: false,
          properties: {
            type: { const: 'oauth2-client-credentials' },
            tokenUrl: { type: 'string', format: 'uri', pattern: '^https?://' },
            clientId: { type: 'string', minLength: 1 },
            secretRef: { type: 'string', pattern: settingNamePattern },
            scope: { type: 'string', minLength: 1 },
          },
        },
      ],
    },
    clientCertificate: {
      type: 'object',
      oneOf: [
        {
          type: 'object',
          required: ['certificateRef', 'keyRef'],
          additionalProperties: false,
          properties: {
            certificateRef: { type: 'string', pattern: settingNamePattern },
            keyRef: { type: 'string', pattern: settingNamePattern },
            keyPassphraseRef: { type: 'string', pattern: settingNamePattern },
          },
        },
        {
          type: 'object',
          required: ['pfxRef'],
          additionalProperties: false,
          properties: {
            pfxRef: { type: 'string', pattern: settingNamePattern },
            passphraseRef: { type: 'string', pattern: settingNamePattern },
          },
        },
      ],
    },
    retry: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxAttempts: { type: 'integer', minimum: 1, maximum: 100, default: 5 },
        firstIntervalInMilliseconds: { type: 'integer', minimum: 1, default: 1000 },
        backoffCoefficient: { type: 'number', minimum: 1, default: 2 },
        maxIntervalInMilliseconds: { type: 'integer', minimum: 1, default: 60_000 },
        totalDeadlineInMilliseconds: { type: 'integer', minimum: 1, default: 86_400_000 },
        jitter: { enum: ['full', 'none'], default: 'full' },
        minRetryAfterInMilliseconds: { type: 'integer', minimum: 0, default: 1_000 },
        maxRetryAfterInMilliseconds: { type: 'integer', minimum: 0, default: 3_600_000 },
      },
    },
  },
} as const;
