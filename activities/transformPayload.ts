import * as df from 'durable-functions';
import type { TransformPayloadInput, TransformPayloadOutput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { transformPayloadActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';
import { prepareDestinationPayloads } from '../lib/transform/prepareDestinationPayloads';

/**
 * Prepares each destination's payload with `prepareDestinationPayloads`. processMessage calls
 * this activity for a message with a tracked entity, after the entity accepted its version, and
 * for a connector that transforms on Data Factory, after the pipeline run. For other messages
 * `recordMessage` prepares the payloads itself.
 */
export async function transformPayload(input: TransformPayloadInput, dependencies: Dependencies = getDependencies()): Promise<TransformPayloadOutput> {
  return prepareDestinationPayloads(input, dependencies);
}

df.app.activity(transformPayloadActivityName, {
  handler: withScrubbedErrors((input: unknown) => transformPayload(input as TransformPayloadInput)),
});
