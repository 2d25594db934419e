/**
 * One audit entry as it leaves the tracking store for another store. `detail` is the JSON text
 * that the tracking store wrote, with secret values already replaced.
 */
export interface AuditRecord {
  messageId: string;
  step: string;
  /** Key that distinguishes repeated entries of one step, such as a destination id, or empty when the step happens once. */
  key: string;
  /** ISO 8601 time of the step. */
  time: string;
  detail: string;
}

/** A store that receives a copy of each new audit entry, in addition to the tracking store's audit table. */
export interface AuditSink {
  /** Queues a record without waiting for the upload. An implementation must not throw here. */
  add(record: AuditRecord): void;
  /** Uploads every queued record. Resolves also when the upload failed, after logging it. */
  flush(): Promise<void>;
  /** Stops the flush timer and uploads what is queued. */
  close(): Promise<void>;
}
