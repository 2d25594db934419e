import type { ConnectorConfig } from '../config/types';

/**
 * Returns the request headers that any destination of the connector forwards, by lower-case name,
 * to be kept with the message. Returns undefined when no destination forwards a header that the
 * request carries.
 */
export function pickForwardedHeaders(connector: ConnectorConfig, requestHeaders: { get(name: string): string | null }): Record<string, string> | undefined {
  const picked: Record<string, string> = {};
  for (const destination of connector.destinations) {
    for (const name of destination.forwardHeaders) {
      const value = requestHeaders.get(name);
      if (value !== null) {
        picked[name.toLowerCase()] = value;
      }
    }
  }
  return Object.keys(picked).length === 0 ? undefined : picked;
}
