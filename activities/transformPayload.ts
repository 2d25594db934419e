import * as df from 'durable-functions';
import { requireConnector } from '../lib/config/requireConnector';
import type { PayloadReference, TransformPayloadOutput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { PermanentError } from '../lib/errors';
import { transformPayloadActivityName } from '../lib/functionNames';
import { transformedBlobNameOf } from '../lib/ids';
import { isJsonContentType } from '../lib/encoding/mediaType';
import { readDecodedPayload } from '../lib/encoding/readDecodedPayload';
import { parseJsonPayload, readRequiredPayload } from '../lib/payloads';
import { scrubError } from '../lib/redaction/messageScrubber';
import { createPayloadScrubber } from '../lib/redaction/redactPayload';
import { evaluateExpression, toJsonValue } from '../lib/transform/evaluateExpression';
import { withScrubbedErrors } from '../lib/redaction/withScrubbedErrors';

/**
 * Applies the connector's JSONata transform to the raw payload, decoded from the content
 * coding it was stored with, writes the result to `transformed/<connectorId>/<messageId>`
 * and audits the step `transformed`. Returns the name of the payload to deliver, which is
 * the raw payload, still encoded, when there is no transform.
 */
export async function transformPayload(
  input: PayloadReference,
  dependencies: Dependencies = getDependencies(),
): Promise<TransformPayloadOutput> {
  const connector = requireConnector(dependencies.connectors, input.connectorId);

  let output: TransformPayloadOutput;
  const expression = connector.expressions.transform;
  if (expression === undefined) {
    const rawPayload = await readRequiredPayload(dependencies.payloadStore, input.rawBlobName, input.messageId);
    output = { payloadBlobName: input.rawBlobName, sizeInBytes: rawPayload.sizeInBytes };
  } else {
    const rawPayload = await readDecodedPayload(dependencies.payloadStore, input.rawBlobName, input.messageId, connector.inbound.maxDecodedBytes);
    if (!isJsonContentType(rawPayload.stored.contentType)) {
      throw new PermanentError(
        `Connector ${connector.id} has a transform, but message ${input.messageId} has content type "${rawPayload.stored.contentType}", which is not JSON. ` +
          'Remove the transform or route this content type to a connector without one, then send the message again.',
      );
    }
    const payload = parseJsonPayload(rawPayload.decodedBytes, input.rawBlobName);
    let result: unknown;
    try {
      result = toJsonValue(await evaluateExpression(expression, payload, `transform of connector ${connector.id}`));
    } catch (error) {
      throw scrubError(error, createPayloadScrubber(payload, connector.redact ?? []));
    }
    if (result === undefined) {
      throw new PermanentError(
        `The transform of connector ${connector.id} returned no value for message ${input.messageId}. ` +
          'Check that the payload contains the fields the expression reads, or correct transform.expression in the connectors file.',
      );
    }

    const payloadBlobName = transformedBlobNameOf(connector.id, input.messageId);
    const bytes = Buffer.from(JSON.stringify(result), 'utf8');
    const digest = await dependencies.payloadStore.put(payloadBlobName, bytes, { contentType: 'application/json' });
    output = { payloadBlobName, sizeInBytes: digest.sizeInBytes };
  }

  dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at: dependencies.clock().toISOString(),
    step: 'transformed',
    detail: { payloadBlobName: output.payloadBlobName, sizeInBytes: output.sizeInBytes, transformed: expression !== undefined },
  });
  return output;
}

df.app.activity(transformPayloadActivityName, {
  handler: withScrubbedErrors((input: unknown) => transformPayload(input as PayloadReference)),
});
