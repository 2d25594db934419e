import { listCredentialSchemes, secretRefsOf } from '../auth/authConfig';
import type { Connectors } from '../config/types';
import { listDestinationSecretRefs } from '../delivery/destinationSecrets';

/**
 * Lists each `secretRef` that the connectors name once, in the order written: the inbound
 * schemes' secrets and each destination's auth, signing, client certificate and CA secrets.
 */
export function listConnectorSecretRefs(connectors: Connectors): string[] {
  const secretRefs = new Set<string>();
  for (const connector of connectors.list) {
    for (const scheme of listCredentialSchemes(connector.inbound.auth)) {
      for (const secretRef of secretRefsOf(scheme)) {
        secretRefs.add(secretRef);
      }
    }
    for (const destination of connector.destinations) {
      for (const { secretRef } of listDestinationSecretRefs(destination)) {
        secretRefs.add(secretRef);
      }
    }
  }
  return [...secretRefs];
}
