import * as df from 'durable-functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { readPipelineRunActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';
import type { ReadPipelineRunInput, ReadPipelineRunOutput } from '../lib/transform/dataFactory/dataFactoryContracts';
import { requireTransformRunner } from './startPipelineRun';

/** Reads the status and message of a pipeline run. */
export async function readPipelineRun(input: ReadPipelineRunInput, dependencies: Dependencies = getDependencies()): Promise<ReadPipelineRunOutput> {
  const run = await requireTransformRunner(dependencies, input.connectorId).readRun(input.runId);
  dependencies.logger.debug({ messageId: input.messageId, connectorId: input.connectorId, runId: input.runId, status: run.status }, 'pipeline run read');
  return run;
}

df.app.activity(readPipelineRunActivityName, {
  handler: withScrubbedErrors((input: unknown) => readPipelineRun(input as ReadPipelineRunInput)),
});
