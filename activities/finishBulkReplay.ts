import * as df from 'durable-functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { finishBulkReplayActivityName } from '../lib/functionNames';
import type { FinishBulkReplayInput } from '../lib/replay/bulkReplayContracts';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Marks a running bulk replay completed or failed and audits it. A replay that was cancelled in
 * the meantime keeps its state and gets no entry. The entry is written whenever the replay is in
 * the requested state. So a retry after a stop between the two writes still adds it, and
 * `appendAudit` ignores an entry that is already there.
 *
 * NOTE: the state and its audit entry are two writes, so a status read between them shows a
 * finished replay without its final audit entry for a moment.
 */
export async function finishBulkReplay(input: FinishBulkReplayInput, dependencies: Dependencies = getDependencies()): Promise<void> {
  const at = dependencies.clock().toISOString();
  const finished = await dependencies.trackingStore.replays.finishBulkReplay(input.replayId, input.state, at, input.error);
  const replay = await dependencies.trackingStore.replays.getBulkReplay(input.replayId);
  const counts = { total: replay?.total ?? null, replayed: replay?.replayed ?? null, failed: replay?.failed ?? null };
  if (replay?.state === input.state) {
    const step = input.state === 'completed' ? 'bulkReplayCompleted' : 'bulkReplayFailed';
    await dependencies.trackingStore.appendAudit({ messageId: input.replayId, at, step, detail: { ...counts, error: input.error ?? null } });
  }
  const logFields = { bulkReplayId: input.replayId, instanceId: input.replayId, state: input.state, applied: finished, ...counts };
  if (input.state === 'failed') {
    dependencies.logger.error({ ...logFields, error: input.error }, 'bulk replay failed');
  } else {
    dependencies.logger.info(logFields, 'bulk replay finished');
  }
}

df.app.activity(finishBulkReplayActivityName, {
  handler: withScrubbedErrors((input: unknown) => finishBulkReplay(input as FinishBulkReplayInput)),
});
