import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { startReplaysActivityName } from '../lib/functionNames';
import type { OrchestrationStarter } from '../lib/ingest/acceptMessage';
import type { StartReplaysInput, StartReplaysOutput } from '../lib/replay/bulkReplayContracts';
import { startReplay } from '../lib/replay/startReplay';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Starts the replay of each message of one page of a bulk replay, records each as replayed or
 * failed, and moves the replay's position past the page. A message that the replay already
 * handled is skipped, so a re-run starts nothing twice. A message that cannot be replayed, such
 * as one whose payload is gone, counts as failed with the reason. Throws when a replay cannot be
 * started, so that the orchestration retries the page.
 */
export async function startReplays(input: StartReplaysInput, starter: OrchestrationStarter, dependencies: Dependencies = getDependencies()): Promise<StartReplaysOutput> {
  const replays = dependencies.trackingStore.replays;
  const replay = await replays.getBulkReplay(input.replayId);
  if (replay === undefined) {
    throw new Error(`Bulk replay ${input.replayId} is not in the tracking store, so its page cannot be replayed.`);
  }

  const output: StartReplaysOutput = { replayed: 0, failed: 0 };
  for (const position of input.positions) {
    if ((await replays.getItem(input.replayId, position.messageId)) !== undefined) {
      continue;
    }
    const result = await startReplay(
      {
        originalMessageId: position.messageId,
        reason: replay.reason,
        operator: replay.operator,
        destinationIds: replay.destinationIds,
        retransform: replay.retransform,
        bulkReplayId: input.replayId,
      },
      starter,
      dependencies,
    );
    const at = dependencies.clock().toISOString();
    if (result.outcome === 'started') {
      await replays.recordItem(input.replayId, { originalMessageId: position.messageId, newMessageId: result.messageId, at });
      output.replayed += 1;
    } else {
      await replays.recordItem(input.replayId, { originalMessageId: position.messageId, error: result.detail, at });
      dependencies.logger.info({ bulkReplayId: input.replayId, messageId: position.messageId, refusal: result.refusal }, 'message of bulk replay not replayed');
      output.failed += 1;
    }
  }

  const last = input.positions[input.positions.length - 1];
  if (last !== undefined) {
    await replays.advancePosition(input.replayId, last, dependencies.clock().toISOString());
  }
  return output;
}

df.app.activity(startReplaysActivityName, {
  extraInputs: [df.input.durableClient()],
  handler: (input: unknown, context: InvocationContext) =>
    withScrubbedErrors((activityInput: unknown) => startReplays(activityInput as StartReplaysInput, df.getClient(context)))(input),
});
