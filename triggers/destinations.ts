import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DestinationCircuitState, EnableDestinationInput } from '../lib/contracts';
import { getDependencies, type Dependencies } from '../lib/dependencies';
import { errorMessageOf } from '../lib/errors';
import {
  destinationCircuitEntityName,
  enableDestinationFunctionName,
  enableDestinationOperationName,
  listDestinationsFunctionName,
} from '../lib/functionNames';
import { readOperator } from '../lib/http/operatorIdentity';
import { parseReasonBody } from '../lib/http/operatorRequestBody';
import { problemResponse, problemTypes } from '../lib/http/problem';
import { handleWithRequestId } from '../lib/http/requestId';
import { createCircuitEntityKey } from '../lib/ids';
import { initialCircuitState } from '../lib/retry/circuitBreaker';

/** Header in which the Functions host puts the authenticated caller's name. */


/** The part of the Durable Functions client that the destination endpoints use. */
export interface CircuitClient {
  signalEntity(entityId: df.EntityId, operationName?: string, operationContent?: unknown): Promise<void>;
  readEntityState<T>(entityId: df.EntityId): Promise<{ entityExists: boolean; entityState?: T }>;
}

/**
 * Enables a destination that a 410 Gone disabled, and closes its circuit breaker. The body must
 * be `{"reason": "..."}`. The operator is the `x-ms-client-principal-name` header, `unknown` when
 * the host sets none. The enable is audited under `destination:<connectorId>|<destinationId>`
 * as `destinationEnabled` and takes effect when the entity runs the signal, usually within a
 * second. Deliveries that wait for the destination find it enabled on their next check.
 */
export async function enableDestination(
  request: HttpRequest,
  connectorId: string,
  destinationId: string,
  client: CircuitClient,
  dependencies: Dependencies,
): Promise<HttpResponseInit> {
  const connector = dependencies.connectors.byId.get(connectorId);
  if (connector === undefined) {
    return problemResponse({
      type: problemTypes.unknownConnector,
      title: 'Unknown connector',
      status: 404,
      detail: `No connector has the id "${connectorId}" in the connectors file. GET /api/destinations lists the connectors and their destinations.`,
      extensions: { connectorId },
    });
  }
  if (!connector.destinations.some((destination) => destination.id === destinationId)) {
    return problemResponse({
      type: problemTypes.unknownDestination,
      title: 'Unknown destination',
      status: 404,
      detail: `Connector "${connectorId}" has no destination "${destinationId}" in the connectors file. GET /api/destinations lists the connectors and their destinations.`,
      extensions: { connectorId, destinationId },
    });
  }

  const parsed = parseReasonBody(await request.text());
  if (parsed.rejection !== undefined) {
    return parsed.rejection;
  }
  const { reason } = parsed.body;

  const operator = readOperator(request);
  const at = dependencies.clock().toISOString();
  const enable: EnableDestinationInput = { operator, reason, at };
  await client.signalEntity(new df.EntityId(destinationCircuitEntityName, createCircuitEntityKey(connectorId, destinationId)), enableDestinationOperationName, enable);

  await dependencies.trackingStore.appendAudit({
    messageId: destinationAuditId(connectorId, destinationId),
    at,
    step: 'destinationEnabled',
    key: at,
    detail: { connectorId, destinationId, operator, reason },
  });
  dependencies.logger.info({ connectorId, destinationId, operator }, 'destination enabled');
  return jsonResponse(202, { connectorId, destinationId, operator, reason, at });
}

/** Maximum number of operator actions listed per destination, newest last. */
const maxListedOperatorActions = 20;

/** Returns the newest audited operator actions on a destination, such as enables, oldest first. */
async function listOperatorActions(connectorId: string, destinationId: string, dependencies: Dependencies): Promise<Array<Record<string, unknown>>> {
  const audit = await dependencies.trackingStore.listAudit(destinationAuditId(connectorId, destinationId));
  return audit.slice(-maxListedOperatorActions).map(({ at, step, detail }) => ({ at, step, operator: detail.operator ?? null, reason: detail.reason ?? null }));
}

/** Returns the id under which operator actions on a destination are audited. */
function destinationAuditId(connectorId: string, destinationId: string): string {
  return `destination:${createCircuitEntityKey(connectorId, destinationId)}`;
}

/** Lists each connector's destinations with the state of their circuit breakers and whether a 410 Gone disabled them. */
export async function listDestinations(client: CircuitClient, dependencies: Dependencies): Promise<HttpResponseInit> {
  const destinations = [];
  for (const connector of dependencies.connectors.list) {
    for (const destination of connector.destinations) {
      const circuit = await readCircuitState(client, connector.id, destination.id, dependencies);
      destinations.push({
        connectorId: connector.id,
        destinationId: destination.id,
        ordering: destination.ordering,
        circuit: circuit.state,
        consecutiveFailures: circuit.consecutiveFailures,
        openUntil: circuit.openUntil ?? null,
        disabled: circuit.disabled !== undefined,
        disabledAt: circuit.disabled?.at ?? null,
        disabledByMessageId: circuit.disabled?.messageId ?? null,
        lastEnabled: circuit.lastEnabled ?? null,
        operatorActions: await listOperatorActions(connector.id, destination.id, dependencies),
      });
    }
  }
  return jsonResponse(200, { destinations });
}

async function readCircuitState(client: CircuitClient, connectorId: string, destinationId: string, dependencies: Dependencies): Promise<DestinationCircuitState> {
  const entityId = new df.EntityId(destinationCircuitEntityName, createCircuitEntityKey(connectorId, destinationId));
  try {
    const response = await client.readEntityState<DestinationCircuitState>(entityId);
    return response.entityExists && response.entityState !== undefined ? response.entityState : initialCircuitState;
  } catch (error) {
    // durable-functions reports an entity that never ran as an error: its breaker is closed.
    dependencies.logger.debug({ connectorId, destinationId, error: errorMessageOf(error) }, 'circuit breaker state not read; showing it closed');
    return initialCircuitState;
  }
}

function jsonResponse(status: number, body: unknown): HttpResponseInit {
  return { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

app.http(enableDestinationFunctionName, {
  methods: ['POST'],
  route: 'connectors/{connectorId}/destinations/{destinationId}/enable',
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(
      request,
      context,
      getDependencies(),
      (dependencies) => enableDestination(request, request.params.connectorId ?? '', request.params.destinationId ?? '', df.getClient(context), dependencies),
      { logRejection: true },
    ),
});

app.http(listDestinationsFunctionName, {
  methods: ['GET'],
  route: 'destinations',
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleWithRequestId(request, context, getDependencies(), (dependencies) => listDestinations(df.getClient(context), dependencies), { logRejection: true }),
});
