import * as df from 'durable-functions';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { PermanentError } from '../lib/errors';
import { checkPipelineOutputActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';
import type { CheckPipelineOutputInput } from '../lib/transform/dataFactory/dataFactoryContracts';

/**
 * Checks that a succeeded pipeline run wrote its output blob to the payload store. Throws a
 * PermanentError naming the run and the blob when it did not.
 */
export async function checkPipelineOutput(input: CheckPipelineOutputInput, dependencies: Dependencies = getDependencies()): Promise<void> {
  if (!(await dependencies.payloadStore.exists(input.outputBlobName))) {
    throw new PermanentError(
      `Pipeline ${input.pipelineName} run ${input.runId} succeeded for message ${input.messageId} but did not write ${input.outputBlobName} to the payload store. ` +
        'Make the pipeline write its output to the blob that its outputBlobName parameter names, then replay the message.',
    );
  }
}

df.app.activity(checkPipelineOutputActivityName, {
  handler: withScrubbedErrors((input: unknown) => checkPipelineOutput(input as CheckPipelineOutputInput)),
});
