import type { SchemaError } from '../config/payloadSchema';

/** `quarantined` until an operator releases the payload as a message, then `released`. */
export type QuarantineState = 'quarantined' | 'released';

/** A payload kept because it failed its connector's JSON Schema. Timestamps are ISO 8601 UTC. */
export interface QuarantinedPayload {
  quarantineId: string;
  connectorId: string;
  receivedAt: string;
  /** Summary of why the payload was rejected. */
  reason: string;
  errors: SchemaError[];
  /** Payload store name of the exact bytes received, `quarantine/<connectorId>/<quarantineId>`. */
  payloadBlobName: string;
  sizeInBytes: number;
  /** SHA-256 of the bytes received, lowercase hex. */
  sha256: string;
  contentType: string;
  /** Content coding of the stored bytes, such as "gzip". Absent when they are not encoded. */
  contentEncoding?: string;
  /** Value of the connector's dedup key header, absent when the request had none. */
  dedupKey?: string;
  state: QuarantineState;
  releasedAt?: string;
  /** The message that the release created or matched by dedup key. */
  messageId?: string;
}

export type NewQuarantinedPayload = Omit<QuarantinedPayload, 'state' | 'releasedAt' | 'messageId'>;
