import fs from 'node:fs';
import path from 'node:path';
import type { HistoryEvent } from '../../local/durable/types';

/** Folder of the recorded histories that test/replay/recordHistories.test.ts writes. */
export const fixturesFolder = path.join(__dirname, '..', 'fixtures', 'histories');

/**
 * Folder of histories recorded before `recordMessage` prepared payloads and `deliverPayload`
 * wrote delivered rows, when every delivery reported its attempts with `callEntity` and ran
 * `transformPayload` and `recordDelivery`. Instances of that layout may still be in flight after
 * a deployment, so they must keep replaying. The recorder never writes here.
 */
export const earlierFixturesFolder = path.join(fixturesFolder, 'earlier');

/** One orchestration instance of the connector as the local host recorded it. */
export interface HistoryFixture {
  description: string;
  /** The recorded case: `success`, `retry`, `stale`, `failure` (a dead letter), `circuitOpen` or `withoutEntity`. */
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

/** Reads every fixture in `folder` (by default `fixturesFolder`), sorted by file name. */
export function loadHistoryFixtures(folder = fixturesFolder): { file: string; fixture: HistoryFixture }[] {
  return fs
    .readdirSync(folder)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({ file, fixture: JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8')) as HistoryFixture }));
}
