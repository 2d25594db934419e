import type { Ledger } from './ledger';

/** One line of the printed table: a figure, or the counts of an invalid run. */
export interface TableRow {
  part: string;
  figure: string;
  ledger: string;
}

/** A target with its result. `invalid` when a run it depends on is invalid or missing. */
export interface TargetResult {
  target: string;
  measured: string;
  result: 'pass' | 'fail' | 'invalid' | 'skipped';
}

export function formatNumber(value: number | null | undefined, fractionDigits = 0): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(fractionDigits);
}

export function formatLedger(ledger: Ledger): string {
  const counts = [`sent ${ledger.sent}`, `accepted ${ledger.accepted}`, `rejected ${ledger.rejected}`];
  if (ledger.delivered !== null) {
    counts.push(`delivered ${ledger.delivered}`, `duplicates ${ledger.duplicates}`);
  }
  if (ledger.errors > 0 || ledger.timeouts > 0) {
    counts.push(`errors ${ledger.errors}`, `timeouts ${ledger.timeouts}`);
  }
  return ledger.balanced ? counts.join(', ') : `INVALID: ${counts.join(', ')}; ${ledger.problems.join('; ')}`;
}

/** Returns `pass` or `fail` for `condition`, or `invalid` when the figures it needs are missing. */
export function judge(condition: boolean | null): TargetResult['result'] {
  if (condition === null) {
    return 'invalid';
  }
  return condition ? 'pass' : 'fail';
}

function printColumns(rows: string[][]): void {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  for (const row of rows) {
    console.log(row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
  }
}

export function printTable(rows: TableRow[], targets: TargetResult[]): void {
  printColumns([['part', 'figure', 'ledger'], ...rows.map((row) => [row.part, row.figure, row.ledger])]);
  console.log('');
  printColumns([['target', 'measured', 'result'], ...targets.map((target) => [target.target, target.measured, target.result])]);
}
