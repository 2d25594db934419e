import type pino from 'pino';
import { errorMessageOf } from '../errors';
import type { TrackingStorePort } from '../tracking/TrackingStorePort';
import type { NewAuditEntry } from '../tracking/types';
import type { AuditRecord, AuditSink } from './auditSink';

/**
 * Makes `trackingStore.appendAudit` also queue each entry it adds on `sink`. An entry that was
 * already there (an activity that ran again) is not sent twice. The record's strings pass
 * through the tracking store's `scrubAuditText` first, as the stored entry does, and a sink
 * error is logged, never thrown, so the step that writes the entry never fails because of it.
 */
export function forwardAuditEntries(trackingStore: TrackingStorePort, sink: AuditSink, logger: pino.Logger): void {
  const appendAudit = trackingStore.appendAudit.bind(trackingStore);
  trackingStore.appendAudit = async (entry) => {
    const added = await appendAudit(entry);
    if (added) {
      try {
        sink.add(toAuditRecord(entry, (text) => trackingStore.scrubAuditText(text)));
      } catch (error) {
        logger.warn({ messageId: entry.messageId, step: entry.step, error: errorMessageOf(error) }, 'audit entry not queued for the audit sink');
      }
    }
    return added;
  };
}

/** Converts an audit entry to a record, with `detail` as the JSON text that the tracking store writes. */
export function toAuditRecord(entry: NewAuditEntry, scrubText: (text: string) => string): AuditRecord {
  return {
    messageId: scrubText(entry.messageId),
    step: entry.step,
    key: scrubText(entry.key ?? ''),
    time: entry.at,
    detail: JSON.stringify(entry.detail, (_key, value: unknown) => (typeof value === 'string' ? scrubText(value) : value)),
  };
}
