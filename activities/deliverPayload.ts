import * as df from 'durable-functions';
import { requireConnector, requireDestination } from '../lib/config/requireConnector';
import type { DeliverPayloadInput, DeliverPayloadOutput } from '../lib/contracts';
import { deliverOnce, type DeliveryResult } from '../lib/delivery/deliverOnce';
import { writeDeliveryRecord } from '../lib/delivery/writeDeliveryRecord';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { deliverPayloadActivityName } from '../lib/functionNames';
import { readDecodedPayload } from '../lib/encoding/readDecodedPayload';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Makes one delivery attempt of a payload to a destination, records it in the tracking store and
 * returns its classification, also for a failed attempt, so that `deliverToDestination` receives the
 * status and the target's `Retry-After`. Throws a PermanentError only when the connector,
 * the destination or the payload is not found. A delivered attempt also writes the `delivered`
 * delivery row and audit entry, as `recordDelivery` would, and sets `deliveryRecorded` in the
 * output, so that deliverToDestination does not call that activity.
 *
 * The payload goes out with the content type it was stored with and decoded from its content
 * coding, so that an opaque payload arrives as the bytes that the partner compressed. The
 * partner headers that the destination's `forwardHeaders` lists come from the message record.
 */
export async function deliverPayload(
  input: DeliverPayloadInput,
  dependencies: Dependencies = getDependencies(),
): Promise<DeliverPayloadOutput> {
  const connector = requireConnector(dependencies.connectors, input.connectorId);
  const destination = requireDestination(connector, input.destinationId);
  const payload = await readDecodedPayload(dependencies.payloadStore, input.payloadBlobName, input.messageId, connector.inbound.maxDecodedBytes);
  const message = await dependencies.trackingStore.getMessage(input.messageId);

  await dependencies.secretStore?.ready();
  const startedAt = dependencies.clock();
  const result = await deliverOnce(
    {
      connectorId: input.connectorId,
      destination,
      messageId: input.messageId,
      body: payload.decodedBytes,
      contentType: payload.stored.contentType,
      idempotencyKey: input.idempotencyKey,
      attemptNumber: input.attemptNumber,
      traceparent: input.traceparent,
      forwardedHeaders: message?.forwardedHeaders,
    },
    {
      outbound: dependencies.outbound,
      readSecret: dependencies.readSecret,
      clock: dependencies.clock,
      lookupAddresses: dependencies.lookupAddresses,
    },
  );

  await dependencies.trackingStore.recordAttempt({
    messageId: input.messageId,
    destinationId: input.destinationId,
    attemptNumber: input.attemptNumber,
    startedAt: startedAt.toISOString(),
    outcome: result.outcome,
    statusCode: result.statusCode,
    error: result.error,
    durationInMilliseconds: result.durationInMilliseconds,
    responseBodyStart: result.responseBodyStart,
  });
  logAttempt(input, result, dependencies);

  const output = toOutput(result);
  output.deliveryRecorded = result.outcome === 'delivered';
  if (output.deliveryRecorded) {
    await writeDeliveryRecord(
      {
        messageId: input.messageId,
        connectorId: input.connectorId,
        destinationId: input.destinationId,
        payloadBlobName: input.payloadBlobName,
        outcome: 'delivered',
        attempts: input.attemptNumber,
        statusCode: result.statusCode,
      },
      dependencies,
    );
  }
  return output;
}

function logAttempt(input: DeliverPayloadInput, result: DeliveryResult, dependencies: Dependencies): void {
  const fields = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    destinationId: input.destinationId,
    attemptNumber: input.attemptNumber,
    maxAttempts: input.maxAttempts,
    statusCode: result.statusCode,
    durationInMilliseconds: result.durationInMilliseconds,
    finalUrl: result.finalUrl,
    redirectCount: result.redirectCount,
  };
  if (result.outcome === 'delivered') {
    dependencies.logger.info(fields, 'delivery attempt succeeded');
    return;
  }
  dependencies.logger.warn(
    { ...fields, outcome: result.outcome, error: result.error, retryAfterInMilliseconds: result.retryAfterInMilliseconds, disablesDestination: result.disablesDestination },
    'delivery attempt failed',
  );
}

/** Copies the fields of the result that the orchestration history carries, leaving out absent ones. */
function toOutput(result: DeliveryResult): DeliverPayloadOutput {
  const output: DeliverPayloadOutput = { outcome: result.outcome, durationInMilliseconds: result.durationInMilliseconds };
  if (result.statusCode !== undefined) {
    output.statusCode = result.statusCode;
  }
  if (result.error !== undefined) {
    output.error = result.error;
  }
  if (result.retryAfterInMilliseconds !== undefined) {
    output.retryAfterInMilliseconds = result.retryAfterInMilliseconds;
  }
  if (result.disablesDestination === true) {
    output.disablesDestination = true;
  }
  return output;
}

df.app.activity(deliverPayloadActivityName, {
  handler: withScrubbedErrors((input: unknown) => deliverPayload(input as DeliverPayloadInput)),
});
