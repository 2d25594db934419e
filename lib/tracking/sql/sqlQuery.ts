import { Request, TYPES, type Connection } from 'tedious';
import type { DataType } from 'tedious/lib/data-type';

/** The SQL types the tracking tables use, each bound to one tedious data type. */
export type SqlParameterType = 'nvarchar' | 'int' | 'bigint' | 'float' | 'datetime2';

/** One named parameter. `value` null or undefined binds SQL NULL. */
export interface SqlParameter {
  name: string;
  type: SqlParameterType;
  value: string | number | boolean | Date | null | undefined;
}

/** A row as column name to value. tedious returns datetime2 columns as Date and bigint columns as string. */
export type SqlRow = Record<string, unknown>;

/** Fractional second digits of the tracking tables' datetime2(3) columns: milliseconds, as ISO strings carry them. */
const datetime2Scale = 3;

const tediousTypes: Record<SqlParameterType, DataType> = {
  nvarchar: TYPES.NVarChar,
  int: TYPES.Int,
  bigint: TYPES.BigInt,
  float: TYPES.Float,
  datetime2: TYPES.DateTime2,
};

/** Builds a string parameter. tedious sends values longer than 4000 characters as nvarchar(max). */
export function text(name: string, value: string | undefined | null): SqlParameter {
  return { name, type: 'nvarchar', value: value ?? null };
}

export function integer(name: string, value: number | undefined | null): SqlParameter {
  return { name, type: 'int', value: value ?? null };
}

export function bigInteger(name: string, value: number | undefined | null): SqlParameter {
  return { name, type: 'bigint', value: value ?? null };
}

export function float(name: string, value: number | undefined | null): SqlParameter {
  return { name, type: 'float', value: value ?? null };
}

/**
 * Builds an entity version parameter for a sql_variant column: a number as float and a string
 * as nvarchar, so the column keeps the base type and reads back as the same JavaScript type.
 */
export function entityVersion(name: string, value: string | number | undefined): SqlParameter {
  return typeof value === 'number' ? float(name, value) : text(name, value);
}

/**
 * Builds a datetime2 parameter from an ISO 8601 UTC string, as the stores keep times, or a Date.
 * Throws a TypeError for a string that is not a valid time, so a bad value never reaches SQL.
 */
export function utcTime(name: string, value: string | Date | undefined | null): SqlParameter {
  if (value === undefined || value === null) {
    return { name, type: 'datetime2', value: null };
  }
  return { name, type: 'datetime2', value: toUtcDate(value, name) };
}

/** Converts an ISO 8601 string or a Date to a Date, rejecting invalid times. */
export function toUtcDate(value: string | Date, parameterName: string): Date {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new TypeError(`Parameter @${parameterName} is "${String(value)}", but it must be an ISO 8601 time such as 2026-12-04T12:00:00.000Z.`);
  }
  return date;
}

/** Converts a datetime2 column value, which tedious returns as a Date in UTC, to the ISO 8601 string the stores use. */
export function fromUtcTime(value: unknown): string | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (!(value instanceof Date)) {
    throw new TypeError(`A datetime2 column returned ${typeof value}, but a Date was expected. Check that the connection sets useUTC.`);
  }
  return value.toISOString();
}

/** Returns a column value as a string, or undefined for NULL. */
export function optionalText(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

/** Returns a column value as a number, or undefined for NULL. A bigint column arrives as a string. */
export function optionalNumber(value: unknown): number | undefined {
  return value === null || value === undefined ? undefined : Number(value);
}

/** Adds each parameter to `request` with its explicit tedious type. */
export function addParameters(request: Request, parameters: readonly SqlParameter[]): void {
  for (const parameter of parameters) {
    request.addParameter(parameter.name, tediousTypes[parameter.type], parameter.value ?? null, parameter.type === 'datetime2' ? { scale: datetime2Scale } : undefined);
  }
}

/**
 * Runs one parameterised statement on `connection` and returns its rows and the number of rows
 * it changed. `sql` is a constant text with `@name` placeholders; values travel only as parameters.
 */
export async function runQuery(connection: Connection, sql: string, parameters: readonly SqlParameter[] = []): Promise<{ rows: SqlRow[]; rowCount: number }> {
  return new Promise((resolve, reject) => {
    const rows: SqlRow[] = [];
    const request = new Request(sql, (error, rowCount) => {
      if (error !== undefined && error !== null) {
        reject(error);
        return;
      }
      resolve({ rows, rowCount: rowCount ?? 0 });
    });
    addParameters(request, parameters);
    request.on('row', (columns) => {
      const row: SqlRow = {};
      for (const column of columns) {
        row[column.metadata.colName] = column.value;
      }
      rows.push(row);
    });
    connection.execSql(request);
  });
}

/** Runs `work` inside a transaction on `connection`, committing when it resolves and rolling back when it throws. */
export async function inTransaction<T>(connection: Connection, work: () => Promise<T>): Promise<T> {
  await new Promise<void>((resolve, reject) => connection.beginTransaction((error) => (error ? reject(error) : resolve())));
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await new Promise<void>((resolve) => connection.rollbackTransaction(() => resolve()));
    throw error;
  }
  await new Promise<void>((resolve, reject) => connection.commitTransaction((error) => (error ? reject(error) : resolve())));
  return result;
}

/** SQL Server error numbers of a duplicate key: 2627 for a primary key or unique constraint, 2601 for a unique index. */
const duplicateKeyErrorNumbers: ReadonlySet<number> = new Set([2627, 2601]);

/** Returns true when `error` is a duplicate key violation, which an insert-if-absent treats as "already there". */
export function isDuplicateKeyError(error: unknown): boolean {
  const number = (error as { number?: unknown } | null)?.number;
  return typeof number === 'number' && duplicateKeyErrorNumbers.has(number);
}

/** Runs an insert-if-absent and returns true when it inserted a row, and false when the key already existed. */
export async function insertUnlessExists(insert: () => Promise<{ rowCount: number }>): Promise<boolean> {
  try {
    return (await insert()).rowCount === 1;
  } catch (error) {
    if (isDuplicateKeyError(error)) {
      return false;
    }
    throw error;
  }
}
