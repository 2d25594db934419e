import * as df from 'durable-functions';
import type { WriteAuditInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { writeAuditActivityName } from '../lib/functionNames';
import { createMessageScrubber } from '../lib/redaction/messageScrubber';
import { scrubValues } from '../lib/redaction/redactPayload';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Appends an audit entry for a step that the orchestrator takes without another activity.
 * A re-run with the same message id, step and key adds nothing. Values at the connector's
 * `redact` pointers, such as an entity key or a quoted field in an error, are replaced.
 */
export async function writeAudit(input: WriteAuditInput, dependencies: Dependencies = getDependencies()): Promise<void> {
  const message = await dependencies.trackingStore.getMessage(input.messageId);
  const connector = message === undefined ? undefined : dependencies.connectors.byId.get(message.connectorId);
  const scrubber =
    message === undefined || connector === undefined
      ? undefined
      : await createMessageScrubber(connector, message.rawBlobName, input.messageId, dependencies);

  await dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at: dependencies.clock().toISOString(),
    step: input.step,
    key: input.key,
    detail: scrubber === undefined ? input.detail : scrubValues(input.detail, scrubber),
  });
}

df.app.activity(writeAuditActivityName, {
  handler: withScrubbedErrors((input: unknown) => writeAudit(input as WriteAuditInput)),
});
