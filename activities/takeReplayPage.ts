import * as df from 'durable-functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { takeReplayPageActivityName } from '../lib/functionNames';
import type { ReplayPage, TakeReplayPageInput } from '../lib/replay/bulkReplayContracts';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Returns the next page of messages that a bulk replay has not handled yet, or an empty page
 * with the replay's state when it is no longer running. The page depends only on the stored
 * position, so a re-run returns the same messages.
 */
export async function takeReplayPage(input: TakeReplayPageInput, dependencies: Dependencies = getDependencies()): Promise<ReplayPage> {
  const replays = dependencies.trackingStore.replays;
  const replay = await replays.getBulkReplay(input.replayId);
  if (replay === undefined) {
    throw new Error(`Bulk replay ${input.replayId} is not in the tracking store, so the bulkReplay orchestration has nothing to replay.`);
  }
  if (replay.state !== 'running') {
    dependencies.logger.info({ bulkReplayId: input.replayId, instanceId: input.replayId, state: replay.state }, 'bulk replay stopped before its next page');
    return { state: replay.state, positions: [] };
  }
  return { state: replay.state, positions: await replays.takeNextPage(input.replayId, input.limit) };
}

df.app.activity(takeReplayPageActivityName, {
  handler: withScrubbedErrors((input: unknown) => takeReplayPage(input as TakeReplayPageInput)),
});
