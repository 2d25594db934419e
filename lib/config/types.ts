import type { Expression } from 'jsonata';
import type { PayloadValidator } from './payloadSchema';
import type { InboundAuthConfig } from '../auth/authConfig';

/** Inbound authentication of a connector: `none` (written explicitly), one scheme or a list of schemes. */
export type InboundAuth = InboundAuthConfig;

export interface InboundConfig {
  auth: InboundAuth;
  /**
   * CIDR ranges of proxies whose `X-Forwarded-For` or `X-Azure-ClientIP` is trusted for the
   * client address. The loader fills in the file's top-level `trustedProxies` when absent.
   */
  trustedProxies?: string[];
  maxBodyBytes: number;
  /** Maximum size in bytes of a gzip, deflate or br body after decoding. */
  maxDecodedBytes: number;
  /** Media types accepted besides JSON, such as `text/csv`. Such payloads are stored and delivered as opaque bytes. */
  acceptedContentTypes: string[];
  /** Inline JSON Schema (draft 2020-12) that JSON payloads must match. */
  schema?: Record<string, unknown>;
  /** Path of a JSON Schema file, relative to the connectors file. Excludes `schema`. */
  schemaFile?: string;
  /** Token bucket per connector and host instance. Absent means no rate limit. */
  rateLimit?: RateLimitConfig;
  /** Requests of this connector that one host instance handles at the same time; more get 503. */
  maxConcurrentRequests: number;
}

/** Sustained request rate and the number of requests allowed at once above it. */
export interface RateLimitConfig {
  requestsPerSecond: number;
  burst: number;
}

/** Source of the deduplication key of an inbound request. */
export interface DedupKeyConfig {
  header: string;
}

/** The business entity a payload is about. `key` and `version` are JSONata expressions. */
export interface EntityConfig {
  type: string;
  key: string;
  /** Without a version expression every message is accepted, in arrival order. */
  version?: string;
}

/** A JSONata expression over the JSON payload, evaluated in the transform activity. */
export interface JsonataTransformConfig {
  type: 'jsonata';
  expression: string;
}

/**
 * An Azure Data Factory pipeline that reads the raw payload blob and writes the transformed one.
 * The pipeline gets the parameters `inputBlobName`, `outputBlobName` and `messageId`.
 */
export interface DataFactoryTransformConfig {
  type: 'adf';
  pipelineName: string;
  /** Time from the first start request after which the message is dead-lettered. Default 60. */
  timeoutInMinutes: number;
  /** Time between two reads of the run status. Default 15. */
  pollIntervalInSeconds: number;
}

/** A connector's transform. A destination's own transform is always JSONata. */
export type TransformConfig = JsonataTransformConfig | DataFactoryTransformConfig;

/** Delivery attempts and the backoff between them. */
export interface RetryPolicy {
  /** Total attempts, the first one included. */
  maxAttempts: number;
  firstIntervalInMilliseconds: number;
  backoffCoefficient: number;
  maxIntervalInMilliseconds: number;
  /**
   * Time from the first attempt after which no attempt starts and the message is dead-lettered,
   * also while the circuit breaker keeps the destination closed to attempts.
   */
  totalDeadlineInMilliseconds: number;
  /** `full`: each wait is a random time between 0 and the computed interval. `none`: the interval itself. */
  jitter: 'full' | 'none';
  /** Range that a target's `Retry-After` is clamped to. */
  minRetryAfterInMilliseconds: number;
  maxRetryAfterInMilliseconds: number;
}

export type DestinationMethod = 'POST' | 'PUT' | 'PATCH';

/** Authentication of the connector to a destination. Secrets are named by `secretRef` and never written here. */
export type OutboundAuthConfig =
  | { type: 'bearer'; secretRef: string }
  | { type: 'api-key'; header: string; secretRef: string }
  | { type: 'basic'; username: string; secretRef: string }
  | {
      type: 'oauth2-client-credentials';
      tokenUrl: string;
      clientId: string;
      /** Names the setting that contains the client secret. */
      secretRef: string;
      scope?: string;
    };

/** Standard Webhooks signing of outbound requests. The setting contains `whsec_<base64 key>`. */
export interface OutboundSigningConfig {
  type: 'standard-webhooks';
  secretRef: string;
}

/** Client certificate for mutual TLS: PEM certificate and key, or a PFX archive (base64) with its password. */
export type ClientCertificateConfig =
  | { certificateRef: string; keyRef: string; keyPassphraseRef?: string }
  | { pfxRef: string; passphraseRef?: string };

export interface CircuitBreakerConfig {
  /** Consecutive failed attempts that open the breaker. */
  failureThreshold: number;
  /** Time the breaker stays open before one probe attempt is let through. */
  coolDownInMilliseconds: number;
}

export interface DestinationConfig {
  id: string;
  url: string;
  method: DestinationMethod;
  /** Limit for the whole attempt: connecting, sending, the response headers and the start of the body. */
  timeoutInMilliseconds: number;
  connectTimeoutInMilliseconds: number;
  /** Limit from sending the request until the response headers arrive. */
  headersTimeoutInMilliseconds: number;
  /** Number of response body bytes kept in the attempt record. */
  responseBodyStartBytes: number;
  /** 307 and 308 redirects followed per attempt, each hop checked like the first URL. 0 follows none. */
  maxRedirects: number;
  /** CIDR ranges of non-public addresses that this destination may reach. */
  allowedPrivateRanges: string[];
  retry: RetryPolicy;
  /** Static headers added to every request. */
  headers: Record<string, string>;
  /** Names of partner request headers (lower case) that are forwarded to this destination. */
  forwardHeaders: string[];
  auth?: OutboundAuthConfig;
  signing?: OutboundSigningConfig;
  clientCertificate?: ClientCertificateConfig;
  /**
   * Names the setting that contains PEM CA certificates to trust besides Node's bundled root
   * certificates, for a destination whose server certificate comes from a private CA.
   */
  caCertificateRef?: string;
  /** JSONata expression over the raw payload; the message goes to this destination only when it is truthy. */
  filter?: string;
  /** Replaces the connector's transform for this destination. The loader rejects `adf` here. */
  transform?: TransformConfig;
  circuitBreaker: CircuitBreakerConfig;
  /** Requests per second across the attempts of one host instance. Absent means no limit. */
  rateLimit?: RateLimitConfig;
  /** Attempts in flight at once on one host instance. */
  maxConcurrentRequests: number;
  /**
   * `fifoPerEntity`: deliveries of one entity key to this destination happen one at a time in
   * version order. `none`: every message is delivered as soon as it is ready.
   */
  ordering: 'none' | 'fifoPerEntity';
}

export interface ConnectorConfig {
  id: string;
  inbound: InboundConfig;
  dedupKey?: DedupKeyConfig;
  entity?: EntityConfig;
  /** Without a transform the raw payload is delivered unchanged. */
  transform?: TransformConfig;
  /**
   * JSON pointers (RFC 6901) into JSON payloads whose values are shown as `[redacted]` in logs,
   * audit entries and the message status. The stored and delivered payloads keep them. The
   * loader sets it to `[]` when absent.
   */
  redact?: string[];
  destinations: DestinationConfig[];
}

export interface ConnectorsFile {
  connectors: ConnectorConfig[];
  /** CIDR ranges of proxies whose forwarded client address is trusted, for connectors without their own list. */
  trustedProxies?: string[];
}

/** The JSONata expressions of a connector, compiled when the file is loaded. */
export interface CompiledExpressions {
  entityKey?: Expression;
  entityVersion?: Expression;
  transform?: Expression;
}

/** The JSONata expressions of a destination, compiled when the file is loaded. */
export interface CompiledDestinationExpressions {
  filter?: Expression;
  transform?: Expression;
}

export interface Connector extends ConnectorConfig {
  expressions: CompiledExpressions;
  /** Compiled filter and transform of each destination, by destination id. */
  destinationExpressions: ReadonlyMap<string, CompiledDestinationExpressions>;
  /**
   * SHA-256 (hex) of the connector's definition as written in the connectors file after defaults,
   * recorded with each message so that an operator can tell which configuration processed it.
   */
  configurationVersion: string;
  /** Compiled from `inbound.schema` or `inbound.schemaFile`. Absent when the connector has no schema. */
  payloadValidator?: PayloadValidator;
}

/** A validated connectors file with defaults applied. */
export interface Connectors {
  /** Absolute path of the file the connectors were loaded from. */
  file: string;
  list: Connector[];
  byId: ReadonlyMap<string, Connector>;
}
