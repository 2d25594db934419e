import type { InstanceStatus, RuntimeStatus } from '../durable/types';

/** The status JSON of the management API, with the fields and formats of the Durable Functions extension. */

export interface StatusPayload {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Record<string, unknown>[];
  history?: Record<string, unknown>[];
}

/** Formats a timestamp as the extension does: UTC, whole seconds, `Z` suffix (`2024-05-01T12:34:56Z`). */
export function toStatusTimestamp(timestamp: string): string {
  const time = new Date(timestamp);
  return Number.isNaN(time.getTime()) ? timestamp : time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Converts an instance status into the JSON the client reads. `input` and `output` are always
 * present, as null when empty, because `durable-functions` rejects a status without them. The
 * history goes into `historyEvents`, the documented field, and into `history`, the field that
 * `durable-functions` reads.
 */
export function toStatusPayload(status: InstanceStatus): StatusPayload {
  const payload: StatusPayload = {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    input: status.input ?? null,
    customStatus: status.customStatus ?? null,
    output: status.output ?? null,
    createdTime: toStatusTimestamp(status.createdTime),
    lastUpdatedTime: toStatusTimestamp(status.lastUpdatedTime),
  };
  if (status.historyEvents) {
    payload.historyEvents = status.historyEvents;
    payload.history = status.historyEvents;
  }
  return payload;
}
