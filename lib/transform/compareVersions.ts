export type EntityVersion = string | number;

/** ISO 8601 date or date-time, as JSON payloads carry them (`2024-05-01`, `2024-05-01T10:00:00.123Z`). */
const isoDateTimePattern = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Compares two entity versions and returns a negative number, zero or a positive number
 * when `a` is older than, equal to or newer than `b`.
 *
 * Two numbers compare numerically. Two ISO date-times compare as instants, so
 * `2024-05-01T12:00:00+02:00` equals `2024-05-01T10:00:00Z`, to millisecond precision.
 * Anything else compares as strings in UTF-16 code unit order, so `"10"` is older than `"9"`.
 */
export function compareVersions(a: EntityVersion, b: EntityVersion): number {
  if (typeof a === 'number' && typeof b === 'number') {
    return Math.sign(a - b);
  }

  const aTime = parseIsoDateTime(a);
  const bTime = parseIsoDateTime(b);
  if (aTime !== undefined && bTime !== undefined) {
    return Math.sign(aTime - bTime);
  }

  const aText = String(a);
  const bText = String(b);
  if (aText === bText) {
    return 0;
  }
  return aText < bText ? -1 : 1;
}

function parseIsoDateTime(value: EntityVersion): number | undefined {
  if (typeof value !== 'string' || !isoDateTimePattern.test(value)) {
    return undefined;
  }
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}
