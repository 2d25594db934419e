import fs from 'node:fs';

/**
 * Reads the records that the triggers fixture app (test/fixtures/triggersApp) appends to the file
 * named by FIXTURE_RECORD_FILE, one JSON object a line.
 */

export interface FixtureRecord {
  functionName: string;
  recordedAt: string;
  invocationId?: string;
  event?: Record<string, unknown>;
  triggerMetadata?: Record<string, unknown>;
  timer?: { isPastDue: boolean; schedule: { adjustForDST: boolean }; scheduleStatus: { last: string; next: string; lastUpdated: string } };
  phase?: 'started' | 'finished';
}

export function readRecords(filePath: string): FixtureRecord[] {
  if (!fs.existsSync(filePath)) {
    return [];
  }
  return fs
    .readFileSync(filePath, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as FixtureRecord);
}

/**
 * Polls the record file every 50 ms until `isComplete` returns true for the records, and returns
 * them. Throws after `timeoutInMilliseconds` with the records read so far.
 */
export async function waitForRecords(filePath: string, isComplete: (records: FixtureRecord[]) => boolean, timeoutInMilliseconds: number): Promise<FixtureRecord[]> {
  const pollIntervalInMilliseconds = 50;
  const maxPolls = Math.ceil(timeoutInMilliseconds / pollIntervalInMilliseconds);
  for (let poll = 0; poll < maxPolls; poll += 1) {
    const records = readRecords(filePath);
    if (isComplete(records)) {
      return records;
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalInMilliseconds));
  }
  throw new Error(`The expected records did not appear within ${timeoutInMilliseconds} ms. Records so far:\n${JSON.stringify(readRecords(filePath), null, 2)}`);
}
