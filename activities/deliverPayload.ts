import * as df from 'durable-functions';
import { requireConnector, requireDestination } from '../lib/config/requireConnector';
import type { DestinationConfig } from '../lib/config/types';
import type { DeliverPayloadInput, DeliverPayloadOutput } from '../lib/contracts';
import { deliverOnce, type DeliveryResult } from '../lib/delivery/deliverOnce';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { errorMessageOf } from '../lib/errors';
import { deliverPayloadActivityName } from '../lib/functionNames';
import { checkDestinationAddress } from '../lib/network/addressGuard';
import { readDecodedPayload } from '../lib/encoding/readDecodedPayload';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Makes one delivery attempt of a payload to a destination and records it in the
 * tracking store. Returns the attempt's outcome, also for a failed attempt, so that
 * `deliverToDestination` gets the classification, the `Retry-After` and a 410 Gone. It
 * throws only a PermanentError for an unknown connector or destination or a missing payload.
 *
 * The payload goes out with the content type it was stored with and decoded from its
 * content coding, so that an opaque payload arrives as the bytes that the partner compressed.
 */
export async function deliverPayload(
  input: DeliverPayloadInput,
  dependencies: Dependencies = getDependencies(),
): Promise<DeliverPayloadOutput> {
  const connector = requireConnector(dependencies.connectors, input.connectorId);
  const destination = requireDestination(connector, input.destinationId);
  const payload = await readDecodedPayload(dependencies.payloadStore, input.payloadBlobName, input.messageId, connector.inbound.maxDecodedBytes);
  const logFields = {
    messageId: input.messageId,
    connectorId: input.connectorId,
    destinationId: input.destinationId,
    attemptNumber: input.attemptNumber,
  };

  const startedAt = dependencies.clock();
  const result = await attemptDelivery(destination, input, payload.decodedBytes, payload.stored.contentType, dependencies);
  dependencies.trackingStore.recordAttempt({
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

  const output: DeliverPayloadOutput = {
    outcome: result.outcome,
    statusCode: result.statusCode,
    error: result.error,
    retryAfterInMilliseconds: result.retryAfterInMilliseconds,
    disablesDestination: result.statusCode === 410 ? true : undefined,
    durationInMilliseconds: result.durationInMilliseconds,
  };
  if (result.outcome === 'delivered') {
    dependencies.logger.info({ ...logFields, statusCode: result.statusCode, durationInMilliseconds: result.durationInMilliseconds }, 'delivery attempt succeeded');
  } else {
    dependencies.logger.warn({ ...logFields, outcome: result.outcome, statusCode: result.statusCode, error: result.error }, 'delivery attempt failed');
  }
  return output;
}

/** Checks the destination's addresses, then sends the payload. Returns a failed result instead of throwing. */
async function attemptDelivery(
  destination: DestinationConfig,
  input: DeliverPayloadInput,
  body: Uint8Array,
  contentType: string,
  dependencies: Dependencies,
): Promise<DeliveryResult> {
  try {
    const check = await checkDestinationAddress(destination.url, destination.allowedPrivateRanges, dependencies.lookupAddresses);
    if (!check.allowed) {
      return { outcome: 'permanent', error: `blocked: ${check.reason}`, durationInMilliseconds: 0, responseBodyStart: '' };
    }
  } catch (error) {
    return { outcome: 'retryable', error: `address lookup failed: ${errorMessageOf(error)}`, durationInMilliseconds: 0, responseBodyStart: '' };
  }

  return deliverOnce(
    {
      url: destination.url,
      method: destination.method,
      body,
      contentType,
      idempotencyKey: input.idempotencyKey,
      timeoutInMilliseconds: destination.timeoutInMilliseconds,
    },
    dependencies.fetch,
  );
}

df.app.activity(deliverPayloadActivityName, {
  handler: withScrubbedErrors((input: unknown) => deliverPayload(input as DeliverPayloadInput)),
});
