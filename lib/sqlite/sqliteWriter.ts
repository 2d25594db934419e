/**
 * Runs a write on a SQLite database and resolves with its result once the write is on disk.
 * The stores that share one database connection write through one writer, so their writes
 * share its group commit.
 */
export interface SqliteWriter {
  write<T>(work: () => T): Promise<T>;
}
