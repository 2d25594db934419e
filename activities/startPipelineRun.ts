import * as df from 'durable-functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { ConfigurationError } from '../lib/errors';
import { startPipelineRunActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';
import type { StartPipelineRunInput } from '../lib/transform/dataFactory/dataFactoryContracts';
import { requiredDataFactorySettingNames } from '../lib/transform/dataFactory/dataFactorySettings';
import type { TransformRunner } from '../lib/transform/dataFactory/TransformRunner';

/** Audit step that records the run id of a message's pipeline run. */
export const transformStartedStep = 'transformStarted';

/**
 * Starts the connector's Data Factory pipeline for a message and returns the run id. The run id
 * is audited as `transformStarted` right after the start, and an activity that runs again returns
 * the audited run id instead of starting a second run.
 *
 * NOTE: a crash between the start and the audit entry leaves a run that nothing reads, and the
 * next attempt starts another one. Both write the same output blob.
 */
export async function startPipelineRun(input: StartPipelineRunInput, dependencies: Dependencies = getDependencies()): Promise<string> {
  const recordedRunId = await findRecordedRunId(input, dependencies);
  if (recordedRunId !== undefined) {
    return recordedRunId;
  }

  const runner = requireTransformRunner(dependencies, input.connectorId);
  const runId = await runner.startRun(input.pipelineName, {
    inputBlobName: input.inputBlobName,
    outputBlobName: input.outputBlobName,
    messageId: input.messageId,
  });

  const added = await dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at: dependencies.clock().toISOString(),
    step: transformStartedStep,
    detail: { pipelineName: input.pipelineName, runId, inputBlobName: input.inputBlobName, outputBlobName: input.outputBlobName },
  });
  if (!added) {
    // Another run of this activity audited its run first, so the message keeps that run.
    const firstRunId = (await findRecordedRunId(input, dependencies)) ?? runId;
    dependencies.logger.warn({ messageId: input.messageId, connectorId: input.connectorId, runId, keptRunId: firstRunId }, 'pipeline run started twice, keeping the first');
    return firstRunId;
  }
  dependencies.logger.info({ messageId: input.messageId, connectorId: input.connectorId, pipelineName: input.pipelineName, runId }, 'pipeline run started');
  return runId;
}

/** Returns the Data Factory runner. Throws a ConfigurationError naming the settings when it is not configured. */
export function requireTransformRunner(dependencies: Dependencies, connectorId: string): TransformRunner {
  if (dependencies.transformRunner === undefined) {
    throw new ConfigurationError(
      `Connector ${connectorId} transforms on Data Factory, but the Data Factory settings are missing. ` +
        `Set ${requiredDataFactorySettingNames.join(', ')}, then replay the message.`,
    );
  }
  return dependencies.transformRunner;
}

async function findRecordedRunId(input: StartPipelineRunInput, dependencies: Dependencies): Promise<string | undefined> {
  const entry = (await dependencies.trackingStore.listAudit(input.messageId)).find((audited) => audited.step === transformStartedStep);
  const runId = entry?.detail.runId;
  return typeof runId === 'string' ? runId : undefined;
}

df.app.activity(startPipelineRunActivityName, {
  handler: withScrubbedErrors((input: unknown) => startPipelineRun(input as StartPipelineRunInput)),
});
