import * as df from 'durable-functions';
import type { MirrorEntityStateInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { mirrorEntityStateActivityName } from '../lib/functionNames';
import type { MirrorResult } from '../lib/tracking/types';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Copies the message's entity version into the entity_state and entity_changes tables,
 * which downstream systems read through `GET changes`, and audits the step
 * `entityStateMirrored`.
 */
export async function mirrorEntityState(
  input: MirrorEntityStateInput,
  dependencies: Dependencies = getDependencies(),
): Promise<MirrorResult> {
  const at = dependencies.clock();
  const result = await dependencies.trackingStore.mirrorEntityState({
    connectorId: input.connectorId,
    entityType: input.entity.type,
    entityKey: input.entity.key,
    version: input.entity.version,
    messageId: input.messageId,
    at,
  });

  await dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at: at.toISOString(),
    step: 'entityStateMirrored',
    detail: { ...result },
  });
  return result;
}

df.app.activity(mirrorEntityStateActivityName, {
  handler: withScrubbedErrors((input: unknown) => mirrorEntityState(input as MirrorEntityStateInput)),
});
