import * as df from 'durable-functions';
import type { WriteAuditInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { writeAuditActivityName } from '../lib/functionNames';

/**
 * Appends an audit entry for a step that the orchestrator takes without another activity.
 * A re-run with the same message id, step and key adds nothing.
 */
export async function writeAudit(input: WriteAuditInput, dependencies: Dependencies = getDependencies()): Promise<void> {
  dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at: dependencies.clock().toISOString(),
    step: input.step,
    key: input.key,
    detail: input.detail,
  });
}

df.app.activity(writeAuditActivityName, {
  handler: (input: unknown) => writeAudit(input as WriteAuditInput),
});
