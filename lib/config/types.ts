import type { Expression } from 'jsonata';

/** Inbound authentication of a connector. `none` must be written explicitly. */
export type InboundAuth = { type: 'none' } | { type: 'hmac-sha256'; header: string; secretRef: string };

export interface InboundConfig {
  auth: InboundAuth;
  maxBodyBytes: number;
}

/** Where the deduplication key of an inbound request comes from. */
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
  destinations: DestinationConfig[];
}

export interface ConnectorsFile {
  connectors: ConnectorConfig[];
}

/** The JSONata expressions of a connector, compiled when the file is loaded. */
export interface CompiledExpressions {
  entityKey?: Expression;
  entityVersion?: Expression;
  transform?: Expression;
}

export interface Connector extends ConnectorConfig {
  expressions: CompiledExpressions;
}

/** A validated connectors file with defaults applied. */
export interface Connectors {
  /** Absolute path of the file the connectors were loaded from. */
  file: string;
  list: Connector[];
  byId: ReadonlyMap<string, Connector>;
}
