import * as df from 'durable-functions';
import type { RecordDeliveryInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { writeDeliveryRecord } from '../lib/delivery/writeDeliveryRecord';
import { recordDeliveryActivityName } from '../lib/functionNames';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Writes the delivery of a message to one destination with `writeDeliveryRecord`. A delivered
 * attempt is written by `deliverPayload` itself, so deliverToDestination calls this activity for
 * the other outcomes, and for `delivered` only in histories whose `deliverPayload` output does
 * not say that it wrote the delivery.
 */
export async function recordDelivery(input: RecordDeliveryInput, dependencies: Dependencies = getDependencies()): Promise<void> {
  await writeDeliveryRecord(input, dependencies);
}

df.app.activity(recordDeliveryActivityName, {
  handler: withScrubbedErrors((input: unknown) => recordDelivery(input as RecordDeliveryInput)),
});
