import { PermanentError } from '../errors';
import type { Connector, Connectors, DestinationConfig } from './types';

/**
 * Returns the connector with `connectorId`. Throws a PermanentError when the connectors
 * file no longer declares it, for example after an edit while a message was in flight.
 */
export function requireConnector(connectors: Connectors, connectorId: string): Connector {
  const connector = connectors.byId.get(connectorId);
  if (connector === undefined) {
    throw new PermanentError(
      `Connector ${connectorId} is not in the connectors file ${connectors.file}. Restore it, or stop processing its messages.`,
    );
  }
  return connector;
}

/** Returns the destination with `destinationId` of a connector, or throws a PermanentError. */
export function requireDestination(connector: Connector, destinationId: string): DestinationConfig {
  const destination = connector.destinations.find((candidate) => candidate.id === destinationId);
  if (destination === undefined) {
    throw new PermanentError(
      `Destination ${destinationId} is not a destination of connector ${connector.id}. Restore it in the connectors file, or stop processing its messages.`,
    );
  }
  return destination;
}
