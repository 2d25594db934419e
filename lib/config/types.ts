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

export interface TransformConfig {
  type: 'jsonata';
  expression: string;
}

/** Delivery attempts and the backoff between them. */
export interface RetryPolicy {
  /** Total attempts, the first one included. */
  maxAttempts: number;
  firstIntervalInMilliseconds: number;
  backoffCoefficient: number;
  maxIntervalInMilliseconds: number;
}

export type DestinationMethod = 'POST' | 'PUT' | 'PATCH';

export interface DestinationConfig {
  id: string;
  url: string;
  method: DestinationMethod;
  timeoutInMilliseconds: number;
  /** CIDR ranges of non-public addresses that this destination may reach. */
  allowedPrivateRanges: string[];
  retry: RetryPolicy;
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

export interface Connector extends ConnectorConfig {
  expressions: CompiledExpressions;
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
