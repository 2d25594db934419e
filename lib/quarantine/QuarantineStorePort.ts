import type { QuarantineQuery } from './quarantineStore';
import type { NewQuarantinedPayload, QuarantinedPayload } from './types';

/** Payloads that failed their connector's schema, as function code uses them. */
export interface QuarantineStorePort {
  /** Inserts a quarantined payload unless one with the same id exists. Returns true when it was inserted. */
  insert(payload: NewQuarantinedPayload): Promise<boolean>;
  get(quarantineId: string): Promise<QuarantinedPayload | undefined>;
  /** Returns up to `query.top` entries, of one connector when `query.connectorId` is set, newest first. */
  list(query: QuarantineQuery): Promise<QuarantinedPayload[]>;
  /** Marks a quarantined payload released as `messageId`. Returns false when it is unknown or already released. */
  markReleased(quarantineId: string, messageId: string, releasedAt: Date): Promise<boolean>;
}
