import type { HttpRequest } from '@azure/functions';

/**
 * Header with the signed-in user's name. App Service authentication sets it on Azure and removes
 * any value the client sent. The local host does the same for requests that present its key.
 */
export const clientPrincipalNameHeader = 'x-ms-client-principal-name';

/** The operator audited for a request without an identity, as on Azure with authentication off. */
export const unknownOperator = 'unknown';

/** Maximum length of an operator name in audit entries, in characters. A longer name is cut. */
const maxOperatorNameLength = 256;

/** Returns the identity of the operator who sent `request`, or `unknown` when it carries none. */
export function readOperator(request: HttpRequest): string {
  const name = request.headers.get(clientPrincipalNameHeader)?.trim();
  if (name === undefined || name === '') {
    return unknownOperator;
  }
  return name.slice(0, maxOperatorNameLength);
}
