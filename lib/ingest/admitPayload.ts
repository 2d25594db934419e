import type { HttpResponseInit } from '@azure/functions';
import type { SchemaError } from '../config/payloadSchema';
import type { Connector } from '../config/types';
import type { Dependencies } from '../dependencies';
import { errorMessageOf } from '../errors';
import { problemResponse, problemTypes } from '../http/problem';
import { quarantinePayload } from '../quarantine/quarantinePayload';
import { acceptMessage, type AcceptableMessage, type AcceptResult, type OrchestrationStarter } from './acceptMessage';
import { checkPayload, type ReceivedPayload } from './checkPayload';

export interface AdmitOptions {
  /**
   * `quarantine` keeps a payload that fails the connector's JSON Schema and responds with 422.
   * `report` only returns the errors, for a payload that is already in quarantine.
   */
  onSchemaViolation: 'quarantine' | 'report';
}

/**
 * The result of admitting a payload: `rejected` with a 4xx before anything was stored,
 * `quarantined` or `invalid` when it failed the schema, or the result of accepting it.
 */
export type Admission =
  | { outcome: 'rejected'; response: HttpResponseInit }
  | { outcome: 'quarantined'; quarantineId: string; response: HttpResponseInit }
  | { outcome: 'invalid'; schemaErrors: SchemaError[]; schemaErrorCount: number; response: HttpResponseInit }
  | AcceptResult;

/**
 * Runs the steps after authentication that ingest and the release of a quarantined payload
 * share. `checkPayload` checks the payload and its schema. A schema violation is quarantined or
 * reported, as `options` selects. Otherwise `acceptMessage` claims the message id, stores the
 * bytes and starts `processMessage`.
 */
export async function admitPayload(
  connector: Connector,
  received: ReceivedPayload,
  starter: OrchestrationStarter,
  dependencies: Dependencies,
  options: AdmitOptions,
): Promise<Admission> {
  const check = await checkPayload(connector, received);
  if (check.rejection !== undefined) {
    return { outcome: 'rejected', response: check.rejection };
  }

  const message: AcceptableMessage = {
    bytes: received.bytes,
    contentType: received.contentType,
    contentEncoding: check.contentEncoding,
    dedupKey: received.dedupKey,
    requestHeaders: received.headers,
  };
  if (check.schemaErrorCount === 0) {
    return acceptMessage(connector, message, starter, dependencies);
  }

  if (options.onSchemaViolation === 'report') {
    const advice = `Correct the schema of connector ${connector.id} in the connectors file, restart the host and release the payload again.`;
    const response = schemaViolation(check.schemaErrors, check.schemaErrorCount, advice);
    return { outcome: 'invalid', schemaErrors: check.schemaErrors, schemaErrorCount: check.schemaErrorCount, response };
  }

  let quarantineId: string;
  try {
    quarantineId = await quarantinePayload(connector, message, check.schemaErrors, dependencies);
  } catch (error) {
    dependencies.logger.error({ connectorId: connector.id, error: errorMessageOf(error) }, 'quarantine of a payload that failed the schema failed');
    const response = problemResponse(
      {
        type: problemTypes.temporarilyUnavailable,
        title: 'Temporarily unavailable',
        status: 503,
        detail: 'The payload failed the schema and could not be kept in quarantine. Send it again later.',
      },
      { 'Retry-After': '5' },
    );
    return { outcome: 'rejected', response };
  }
  const response = schemaViolation(check.schemaErrors, check.schemaErrorCount, 'Fix the payload and send it again.', quarantineId);
  return { outcome: 'quarantined', quarantineId, response };
}

/** Builds the 422 response that lists schema errors as `errors: [{ pointer, message }]`. `advice` ends the detail. */
function schemaViolation(errors: SchemaError[], errorCount: number, advice: string, quarantineId?: string): HttpResponseInit {
  let listed = ' They are listed in "errors".';
  if (errorCount === 1) {
    listed = ' It is listed in "errors".';
  } else if (errorCount > errors.length) {
    listed = ` The first ${errors.length} are listed in "errors".`;
  }
  const quarantineNote = quarantineId === undefined ? '' : ` It was kept in quarantine as ${quarantineId}.`;
  return problemResponse({
    type: problemTypes.schemaViolation,
    title: 'Payload does not match the schema',
    status: 422,
    detail: `The payload has ${errorCount} JSON Schema ${errorCount === 1 ? 'error' : 'errors'}.${listed}${quarantineNote} ${advice}`,
    extensions: quarantineId === undefined ? { errors } : { errors, quarantineId },
  });
}
