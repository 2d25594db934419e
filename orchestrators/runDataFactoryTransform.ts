import * as df from 'durable-functions';
import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import {
  checkPipelineOutputActivityName,
  readPipelineRunActivityName,
  runDataFactoryTransformOrchestrationName,
  startPipelineRunActivityName,
} from '../lib/functionNames';
import { describeTaskFailure, isPermanentFailure } from '../lib/taskFailure';
import type {
  CheckPipelineOutputInput,
  ReadPipelineRunInput,
  ReadPipelineRunOutput,
  RunDataFactoryTransformInput,
  RunDataFactoryTransformOutput,
  StartPipelineRunInput,
} from '../lib/transform/dataFactory/dataFactoryContracts';

type Generated<T> = Generator<Task, T, unknown>;

/** The end of the transform's time, and the wait between two requests to Data Factory. */
interface Schedule {
  deadlineInMilliseconds: number;
  pollIntervalInMilliseconds: number;
}

/**
 * Runs a message's transform on Data Factory. It starts the pipeline run and reads its status
 * after each poll interval, which is a durable timer. It stops when the run has succeeded and
 * written its output blob, has failed or was cancelled, or when the next read would come after
 * the timeout, counted from the start. A request that fails with a retryable error is sent again
 * at the next poll. Returns the output blob, or the reason to dead-letter the message: the
 * pipeline's message, a permanent error or the timeout.
 */
const runDataFactoryTransform: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = context.df.getInput<RunDataFactoryTransformInput>();
  const schedule: Schedule = {
    deadlineInMilliseconds: context.df.currentUtcDateTime.getTime() + input.timeoutInMinutes * 60_000,
    pollIntervalInMilliseconds: input.pollIntervalInSeconds * 1000,
  };
  // Bounds the loops, in case a clock that stood still kept the deadline from passing.
  const maxRequests = Math.ceil((input.timeoutInMinutes * 60) / input.pollIntervalInSeconds) + 2;

  const started = yield* startRun(context, input, schedule, maxRequests);
  if (started.outcome === 'failed') {
    return started;
  }
  const runId = started.runId;

  for (let request = 0; request < maxRequests; request++) {
    if (!(yield* waitForNextPoll(context, schedule))) {
      break;
    }

    let run: ReadPipelineRunOutput;
    try {
      const readInput: ReadPipelineRunInput = { messageId: input.messageId, connectorId: input.connectorId, runId };
      run = (yield context.df.callActivity(readPipelineRunActivityName, readInput)) as ReadPipelineRunOutput;
    } catch (error) {
      if (isPermanentFailure(error)) {
        return failed(`Reading pipeline ${input.pipelineName} run ${runId} failed: ${describeTaskFailure(error)}`, runId);
      }
      continue;
    }

    if (run.status === 'Succeeded') {
      return yield* checkOutput(context, input, runId);
    }
    if (run.status === 'Failed' || run.status === 'Cancelled') {
      const message = run.message === '' ? 'Data Factory gave no message' : run.message;
      return failed(`Pipeline ${input.pipelineName} run ${runId} ended ${run.status}: ${message}`, runId);
    }
  }
  return failed(
    `Pipeline ${input.pipelineName} run ${runId} did not finish within the timeout of ${input.timeoutInMinutes} minutes. ` +
      'Raise timeoutInMinutes of the connector transform if the pipeline needs longer.',
    runId,
  );
};

/** Starts the run, trying again at each poll interval after a retryable failure until the deadline. */
function* startRun(context: OrchestrationContext, input: RunDataFactoryTransformInput, schedule: Schedule, maxRequests: number): Generated<RunDataFactoryTransformOutput> {
  const startInput: StartPipelineRunInput = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    pipelineName: input.pipelineName,
    inputBlobName: input.inputBlobName,
    outputBlobName: input.outputBlobName,
  };
  let lastFailure = 'no request was made';
  for (let request = 0; request < maxRequests; request++) {
    try {
      const runId = (yield context.df.callActivity(startPipelineRunActivityName, startInput)) as string;
      return { outcome: 'succeeded', runId, outputBlobName: input.outputBlobName };
    } catch (error) {
      lastFailure = describeTaskFailure(error);
      if (isPermanentFailure(error)) {
        return failed(`Starting pipeline ${input.pipelineName} failed: ${lastFailure}`);
      }
    }
    if (!(yield* waitForNextPoll(context, schedule))) {
      break;
    }
  }
  return failed(`Pipeline ${input.pipelineName} could not be started within the timeout of ${input.timeoutInMinutes} minutes. The last failure: ${lastFailure}`);
}

/** Checks that the succeeded run wrote its output blob. */
function* checkOutput(context: OrchestrationContext, input: RunDataFactoryTransformInput, runId: string): Generated<RunDataFactoryTransformOutput> {
  const checkInput: CheckPipelineOutputInput = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    pipelineName: input.pipelineName,
    runId,
    outputBlobName: input.outputBlobName,
  };
  try {
    yield context.df.callActivity(checkPipelineOutputActivityName, checkInput);
  } catch (error) {
    return failed(describeTaskFailure(error), runId);
  }
  return { outcome: 'succeeded', runId, outputBlobName: input.outputBlobName };
}

/** Waits one poll interval. Returns false, without waiting, when the next poll would come after the deadline. */
function* waitForNextPoll(context: OrchestrationContext, schedule: Schedule): Generated<boolean> {
  const nextPollInMilliseconds = context.df.currentUtcDateTime.getTime() + schedule.pollIntervalInMilliseconds;
  if (nextPollInMilliseconds > schedule.deadlineInMilliseconds) {
    return false;
  }
  yield context.df.createTimer(new Date(nextPollInMilliseconds));
  return true;
}

function failed(reason: string, runId?: string): RunDataFactoryTransformOutput {
  return runId === undefined ? { outcome: 'failed', reason } : { outcome: 'failed', reason, runId };
}

df.app.orchestration(runDataFactoryTransformOrchestrationName, runDataFactoryTransform);
