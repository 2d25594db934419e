import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import type { BulkReplayInput, FinishBulkReplayInput, ReplayPage, StartReplaysInput, StartReplaysOutput, TakeReplayPageInput } from '../lib/replay/bulkReplayContracts';
import { bulkReplayOrchestrationName, finishBulkReplayActivityName, startReplaysActivityName, takeReplayPageActivityName } from '../lib/functionNames';
import { describeTaskFailure } from '../lib/taskFailure';

/** Largest page of messages taken and started at once. */
const maxPageSize = 50;

/** Pages handled before the orchestration continues as new, which keeps its history short. */
const pagesPerHistory = 50;

/** `startReplays` is retried when starting a replay fails, for example while the host is busy. */
const startRetry = new df.RetryOptions(1000, 3);

/**
 * Replays every message of a bulk replay, page by page. Each page has as many messages as the
 * rate allows per second (at least 1, at most 50). A durable timer delays the next page until
 * `pageSize / requestsPerSecond` seconds after this page started. Before each page it reads the
 * replay's state, so a cancelled replay stops there. The set of messages and the progress live in
 * the tracking store, which the activities read and write.
 */
const bulkReplay: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<BulkReplayInput>();
  const pageSize = Math.min(maxPageSize, Math.max(1, Math.ceil(input.requestsPerSecond)));
  const pageIntervalInMilliseconds = (pageSize / input.requestsPerSecond) * 1000;

  try {
    for (let pageNumber = 0; pageNumber < pagesPerHistory; pageNumber++) {
      const pageStartedAt = context.df.currentUtcDateTime.getTime();
      const takeInput: TakeReplayPageInput = { replayId: input.replayId, limit: pageSize };
      const page = (yield context.df.callActivity(takeReplayPageActivityName, takeInput)) as ReplayPage;
      if (page.state !== 'running') {
        return { state: page.state };
      }
      if (page.positions.length === 0) {
        const finishInput: FinishBulkReplayInput = { replayId: input.replayId, state: 'completed' };
        yield context.df.callActivity(finishBulkReplayActivityName, finishInput);
        return { state: 'completed' };
      }

      const startInput: StartReplaysInput = { replayId: input.replayId, positions: page.positions };
      const started = (yield context.df.callActivityWithRetry(startReplaysActivityName, startRetry, startInput)) as StartReplaysOutput;
      context.df.setCustomStatus({ lastPage: started });
      yield context.df.createTimer(new Date(pageStartedAt + pageIntervalInMilliseconds));
    }
  } catch (error) {
    const finishInput: FinishBulkReplayInput = { replayId: input.replayId, state: 'failed', error: describeTaskFailure(error) };
    yield context.df.callActivity(finishBulkReplayActivityName, finishInput);
    return { state: 'failed' };
  }

  context.df.continueAsNew(input);
  return undefined;
};

df.app.orchestration(bulkReplayOrchestrationName, bulkReplay);
