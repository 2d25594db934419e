import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type pino from 'pino';

import { ConfigurationError } from '../../errors';
import { findAppRoot } from '../../settings';
import { preparationOperationName, type SqlDatabase } from './sqlDatabase';

/** The T-SQL schema of the tracking tables, relative to the app root. */
export const trackingSchemaRelativePath = path.join('infra', 'sql', 'tracking-schema.sql');

/** A sqlcmd variable such as `$(FunctionAppName)`, which only sqlcmd can replace. */
const sqlcmdVariablePattern = /\$\([A-Za-z_][A-Za-z0-9_]*\)/;

/**
 * Splits a sqlcmd script into batches at lines that contain only `GO`, as sqlcmd does, and drops
 * empty batches. A `GO` with a repeat count is not supported, because the schema uses none.
 */
export function splitSqlBatches(script: string): string[] {
  const batches: string[] = [];
  let current: string[] = [];
  for (const line of script.split(/\r?\n/)) {
    if (/^\s*GO\s*$/i.test(line)) {
      batches.push(current.join('\n'));
      current = [];
    } else {
      current.push(line);
    }
  }
  batches.push(current.join('\n'));
  return batches.filter((batch) => batch.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('--')));
}

/**
 * Applies infra/sql/tracking-schema.sql batch by batch. The script is idempotent, so it may run
 * at every start. Batches that use a sqlcmd variable (the user and grants of the Function App's
 * identity) are skipped and logged, because they only make sense when an Entra admin runs the
 * script with sqlcmd, as docs/deploy.md describes. Returns the number of batches applied.
 */
export async function migrateSqlSchema(database: SqlDatabase, logger: pino.Logger, schemaPath = path.join(findAppRoot(), trackingSchemaRelativePath)): Promise<number> {
  const batches = splitSqlBatches(await readSchemaScript(schemaPath));
  let applied = 0;
  for (const [index, batch] of batches.entries()) {
    if (sqlcmdVariablePattern.test(batch)) {
      logger.info({ schemaPath, batchNumber: index + 1 }, 'tracking SQL schema batch skipped, because it uses a sqlcmd variable');
      continue;
    }
    // The batch text is the schema file shipped with the app, never a value from a request.
    await database.query(preparationOperationName, batch);
    applied += 1;
  }
  logger.info({ schemaPath, appliedBatches: applied, batches: batches.length }, 'tracking SQL schema applied');
  return applied;
}

async function readSchemaScript(schemaPath: string): Promise<string> {
  try {
    return await readFile(schemaPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
    throw new ConfigurationError(
      `Setting TRACKING_SQL_APPLY_SCHEMA is true, but the schema file ${schemaPath} was not found. ` +
        `Deploy ${trackingSchemaRelativePath} with the app, or apply the schema as docs/deploy.md describes and remove the setting.`,
      { cause: error },
    );
  }
}
