/**
 * Azure SQL error numbers that mean "try again": the database is unavailable, moving, throttled
 * or out of resources for a moment, the connection dropped, or the statement lost a deadlock
 * (1205). An error outside this set fails the operation at once.
 */
export const transientSqlErrorNumbers: ReadonlySet<number> = new Set([
  4060, 40197, 40501, 40613, 49918, 49919, 49920, 4221, 10928, 10929, 10053, 10054, 10060, 233, 64, 20, 1205,
]);

/** Socket error codes of Node.js and the tedious timeout code `ETIMEOUT`, all worth a retry. */
export const transientErrorCodes: ReadonlySet<string> = new Set(['ECONNRESET', 'ETIMEDOUT', 'ESOCKET', 'ETIMEOUT']);

/**
 * Returns true when `error`, or an error in its `cause` chain, is a connection failure or an
 * Azure SQL error that may pass on a later attempt. A constraint violation or a syntax error is
 * not transient, because it fails again on every attempt.
 */
export function isTransientSqlError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const { code, number } = current as { code?: unknown; number?: unknown };
    if (typeof code === 'string' && transientErrorCodes.has(code)) {
      return true;
    }
    if (typeof number === 'number' && transientSqlErrorNumbers.has(number)) {
      return true;
    }
    current = current.cause;
  }
  return false;
}
