import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEvent } from '../../local/durable/types';

/** Folder of the recorded histories that test/replay/recordHistories.test.ts writes. */
export const fixturesFolder = path.join(__dirname, '..', 'fixtures', 'histories');

/** One orchestration instance of the connector as the local host recorded it. */
export interface HistoryFixture {
  description: string;
  /** The recorded case: `success`, `retry`, `stale`, `failure` (a dead letter) or `circuitOpen`. */
  caseName: string;
  orchestratorName: string;
  instanceId: string;
  parentInstanceId?: string;
  runtimeStatus: string;
  /** The instance input, parsed from the JSON the engine stored. */
  input: unknown;
  /** Task ids that the engine gave retry timers and retried attempts, from its `engine_state`. */
  reservedTaskIds: number[];
  /** History events in the PascalCase form that `durable-functions` reads. */
  history: HistoryEvent[];
}

/** Reads every fixture in `fixturesFolder`, sorted by file name. */
export function loadHistoryFixtures(): { file: string; fixture: HistoryFixture }[] {
  return fs
    .readdirSync(fixturesFolder)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, fixture: JSON.parse(fs.readFileSync(path.join(fixturesFolder, file), 'utf8')) as HistoryFixture }));
}
