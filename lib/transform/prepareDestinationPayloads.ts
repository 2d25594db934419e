import type { Expression } from 'jsonata';
import { requireConnector } from '../config/requireConnector';
import type { Connector } from '../config/types';
import type { DestinationPayload, TransformPayloadInput, TransformPayloadOutput } from '../contracts';
import type { Dependencies } from '../dependencies';
import { PermanentError, errorMessageOf } from '../errors';
import { destinationTransformedBlobNameOf, transformedBlobNameOf } from '../ids';
import { isJsonContentType } from '../encoding/mediaType';
import { readDecodedPayload } from '../encoding/readDecodedPayload';
import { parseJsonPayload, readRequiredPayload } from '../payloads';
import { scrubError } from '../redaction/messageScrubber';
import { createPayloadScrubber, type PayloadScrubber } from '../redaction/redactPayload';
import { evaluateExpression, toJsonValue } from './evaluateExpression';

/** The raw payload of a message, parsed once for every filter and transform. */
interface ParsedPayload {
  value: unknown;
  scrubber: PayloadScrubber;
}

/**
 * Decides what each destination gets and stores the payloads to deliver. A destination's
 * `filter` runs on the raw JSON payload, and a falsy result means that it gets nothing. Its own
 * `transform` replaces the connector's and writes `transformed/<connectorId>/<messageId>/<destinationId>`,
 * and the connector's transform writes `transformed/<connectorId>/<messageId>` once for the
 * destinations that use it. A connector transform on Data Factory has run before this function,
 * and its output `connectorPayloadBlobName` goes to those destinations. Without a transform the
 * raw payload, still encoded, is delivered.
 * A replay without `retransform` delivers the payloads that the original message delivered.
 *
 * A failing filter or destination transform fails only its destination. A failing connector
 * transform throws a PermanentError, because it fails every destination that uses it. Each
 * destination to deliver to gets a `pending` delivery row, and the step is audited as `transformed`.
 */
export async function prepareDestinationPayloads(input: TransformPayloadInput, dependencies: Dependencies): Promise<TransformPayloadOutput> {
  const connector = requireConnector(dependencies.connectors, input.connectorId);

  const destinations =
    input.replay !== undefined && !input.replay.retransform
      ? await findOriginalPayloads(input, input.replay.originalMessageId, dependencies)
      : await preparePayloads(connector, input, dependencies);

  const at = dependencies.clock().toISOString();
  for (const destination of destinations) {
    if (destination.kind === 'deliver') {
      await dependencies.trackingStore.upsertDelivery({
        messageId: input.messageId,
        destinationId: destination.destinationId,
        payloadBlobName: destination.payloadBlobName,
        outcome: 'pending',
        attempts: 0,
        updatedAt: at,
      });
    }
  }
  await dependencies.trackingStore.appendAudit({
    messageId: input.messageId,
    at,
    step: 'transformed',
    detail: { destinations: destinations.map((destination) => ({ ...destination })) },
  });
  return { destinations };
}

/** Returns, per destination, the payload that the original message delivered, or a failure naming what is missing. */
async function findOriginalPayloads(input: TransformPayloadInput, originalMessageId: string, dependencies: Dependencies): Promise<DestinationPayload[]> {
  const originalDeliveries = await dependencies.trackingStore.listDeliveries(originalMessageId);
  return input.destinationIds.map((destinationId): DestinationPayload => {
    const payloadBlobName = originalDeliveries.find((delivery) => delivery.destinationId === destinationId)?.payloadBlobName;
    if (payloadBlobName === undefined) {
      return {
        destinationId,
        kind: 'failed',
        reason:
          `Message ${originalMessageId} has no stored payload for destination ${destinationId}, because it was never prepared for it. ` +
          'Replay with retransform set to true to transform the raw payload again.',
      };
    }
    return { destinationId, kind: 'deliver', payloadBlobName };
  });
}

async function preparePayloads(connector: Connector, input: TransformPayloadInput, dependencies: Dependencies): Promise<DestinationPayload[]> {
  const needsJson =
    connector.expressions.transform !== undefined ||
    input.destinationIds.some((destinationId) => {
      const expressions = connector.destinationExpressions.get(destinationId);
      return expressions?.filter !== undefined || expressions?.transform !== undefined;
    });
  const parsed = needsJson ? await readJsonPayload(connector, input, dependencies) : undefined;

  let connectorPayloadBlobName: string | undefined;
  let isRawPayloadChecked = false;
  const destinations: DestinationPayload[] = [];
  for (const destinationId of input.destinationIds) {
    const expressions = connector.destinationExpressions.get(destinationId) ?? {};
    try {
      if (expressions.filter !== undefined && !isTruthy(await evaluate(expressions.filter, parsed, `filter of destination ${destinationId}`))) {
        destinations.push({ destinationId, kind: 'filtered' });
        continue;
      }
      if (expressions.transform !== undefined) {
        const payloadBlobName = destinationTransformedBlobNameOf(connector.id, input.messageId, destinationId);
        await storeTransformed(expressions.transform, parsed, payloadBlobName, `transform of destination ${destinationId}`, input.messageId, dependencies);
        destinations.push({ destinationId, kind: 'deliver', payloadBlobName });
        continue;
      }
    } catch (error) {
      destinations.push({ destinationId, kind: 'failed', reason: errorMessageOf(error) });
      continue;
    }

    if (connector.transform?.type === 'adf') {
      destinations.push({ destinationId, kind: 'deliver', payloadBlobName: await requireDataFactoryOutput(connector, input, dependencies) });
      continue;
    }
    if (connector.expressions.transform === undefined) {
      // Checked once: every destination without a transform gets the same raw payload.
      if (!isRawPayloadChecked) {
        await readRequiredPayload(dependencies.payloadStore, input.rawBlobName, input.messageId);
        isRawPayloadChecked = true;
      }
      destinations.push({ destinationId, kind: 'deliver', payloadBlobName: input.rawBlobName });
      continue;
    }
    if (connectorPayloadBlobName === undefined) {
      connectorPayloadBlobName = transformedBlobNameOf(connector.id, input.messageId);
      await storeTransformed(connector.expressions.transform, parsed, connectorPayloadBlobName, `transform of connector ${connector.id}`, input.messageId, dependencies);
    }
    destinations.push({ destinationId, kind: 'deliver', payloadBlobName: connectorPayloadBlobName });
  }
  return destinations;
}

/** Returns the payload store name of the Data Factory output, which the pipeline run must have written. */
async function requireDataFactoryOutput(connector: Connector, input: TransformPayloadInput, dependencies: Dependencies): Promise<string> {
  if (input.connectorPayloadBlobName === undefined) {
    throw new PermanentError(`Internal error: connector ${connector.id} transforms on Data Factory, but no pipeline output was passed for message ${input.messageId}.`);
  }
  await readRequiredPayload(dependencies.payloadStore, input.connectorPayloadBlobName, input.messageId);
  return input.connectorPayloadBlobName;
}

/** Reads and parses the raw payload. Throws a PermanentError when it is not JSON, since filters and transforms read JSON. */
async function readJsonPayload(connector: Connector, input: TransformPayloadInput, dependencies: Dependencies): Promise<ParsedPayload> {
  const rawPayload = await readDecodedPayload(dependencies.payloadStore, input.rawBlobName, input.messageId, connector.inbound.maxDecodedBytes);
  if (!isJsonContentType(rawPayload.stored.contentType)) {
    throw new PermanentError(
      `Connector ${connector.id} has a transform or a destination filter, but message ${input.messageId} has content type "${rawPayload.stored.contentType}", which is not JSON. ` +
        'Remove the transform and filters or route this content type to a connector without them, then send the message again.',
    );
  }
  const value = parseJsonPayload(rawPayload.decodedBytes, input.rawBlobName);
  return { value, scrubber: createPayloadScrubber(value, connector.redact ?? []) };
}

/** Evaluates an expression on the parsed payload. Errors quote no redacted value. */
async function evaluate(expression: Expression, parsed: ParsedPayload | undefined, description: string): Promise<unknown> {
  if (parsed === undefined) {
    throw new PermanentError(`Internal error: the payload was not parsed before the ${description} ran.`);
  }
  try {
    return toJsonValue(await evaluateExpression(expression, parsed.value, description));
  } catch (error) {
    throw scrubError(error, parsed.scrubber);
  }
}

async function storeTransformed(
  expression: Expression,
  parsed: ParsedPayload | undefined,
  payloadBlobName: string,
  description: string,
  messageId: string,
  dependencies: Dependencies,
): Promise<void> {
  const result = await evaluate(expression, parsed, description);
  if (result === undefined) {
    throw new PermanentError(
      `The ${description} returned no value for message ${messageId}. ` +
        'Check that the payload contains the fields the expression reads, or correct the expression in the connectors file.',
    );
  }
  const bytes = Buffer.from(JSON.stringify(result), 'utf8');
  await dependencies.payloadStore.put(payloadBlobName, bytes, { contentType: 'application/json' });
}

/** JSONata truthiness: false, null, 0, the empty string and the empty array are false, and so is no result. */
function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) {
    return value.some(isTruthy);
  }
  return Boolean(value);
}
