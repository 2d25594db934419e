import type { Connector } from '../config/types';
import { listCredentialSchemes, listIpAllowlists, type CredentialSchemeConfig } from './authConfig';
import type { AuthRejection, CredentialCheck } from './authRejection';
import { isAddressInRanges } from './addressRanges';
import { resolveClientAddress, socketAddressHeader, type ClientAddress, type RequestHeaders } from './clientAddress';
import { readSchemeSecrets, type SchemeSecrets } from './schemeSecrets';
import { verifyApiKey } from './verifyApiKey';
import { verifyBasicCredentials } from './verifyBasicCredentials';
import { verifyHmacSignature } from './verifyHmacSignature';
import { verifyStandardWebhook, webhookSignatureHeader } from './verifyStandardWebhook';

export interface AuthenticationDependencies {
  /** Returns the value of the setting that a `secretRef` names, or undefined when it is not set. */
  readSecret: (secretRef: string) => string | undefined;
  clock: () => Date;
}

export type AuthenticationOutcome =
  | { status: 'accepted'; client: ClientAddress }
  | {
      status: 'rejected';
      client: ClientAddress;
      rejection: AuthRejection;
      /** `WWW-Authenticate` value of the scheme that rejected the request, for a 401. */
      challenge?: string;
    }
  | { status: 'misconfigured'; client: ClientAddress; scheme: CredentialSchemeConfig; secrets: SchemeSecrets };

const noRanges: readonly string[] = [];

/**
 * Authenticates an inbound request for `connector`. The client address is checked against
 * every IP allowlist first, then each credential scheme checks the request in the order
 * written, and the first failure decides the outcome. When no secret of a scheme is set
 * and valid, the outcome is `misconfigured`.
 */
export function authenticateRequest(
  request: { headers: RequestHeaders },
  rawBody: Uint8Array,
  connector: Pick<Connector, 'id' | 'inbound'>,
  dependencies: AuthenticationDependencies,
): AuthenticationOutcome {
  const auth = connector.inbound.auth;
  const client = resolveClientAddress(request.headers, connector.inbound.trustedProxies ?? noRanges);

  for (const allowlist of listIpAllowlists(auth)) {
    const rejection = checkIpAllowlist(client, allowlist, connector.id);
    if (rejection !== undefined) {
      return { status: 'rejected', client, rejection };
    }
  }

  const nowInSeconds = Math.floor(dependencies.clock().getTime() / 1000);
  for (const scheme of listCredentialSchemes(auth)) {
    const secrets = readSchemeSecrets(scheme, dependencies.readSecret);
    if (secrets.keys.length === 0) {
      return { status: 'misconfigured', client, scheme, secrets };
    }

    const check = verifyScheme(scheme, request.headers, rawBody, secrets.keys, nowInSeconds);
    if (!check.valid) {
      return { status: 'rejected', client, rejection: check.rejection, challenge: challengeOf(scheme, connector.id) };
    }
  }
  return { status: 'accepted', client };
}

function checkIpAllowlist(client: ClientAddress, allowlist: readonly string[], connectorId: string): AuthRejection | undefined {
  if (client.address === undefined) {
    return {
      status: 403,
      reason: 'address-unknown',
      title: 'Address not allowed',
      detail:
        `The client address of this request is unknown, so connector "${connectorId}" cannot check it against its IP allowlist. ` +
        `The host must pass the socket address in header ${socketAddressHeader}.`,
    };
  }
  if (!isAddressInRanges(client.address, allowlist)) {
    return {
      status: 403,
      reason: 'address-not-allowed',
      title: 'Address not allowed',
      clientAddress: client.address,
      detail: `Client address ${client.address} is not in the IP allowlist of connector "${connectorId}". Send from an allowed address, or ask the operator to add yours.`,
    };
  }
  return undefined;
}

function verifyScheme(
  scheme: CredentialSchemeConfig,
  headers: RequestHeaders,
  rawBody: Uint8Array,
  keys: readonly Buffer[],
  nowInSeconds: number,
): CredentialCheck {
  switch (scheme.type) {
    case 'hmac-sha256':
      return verifyHmacSignature(
        { headers, rawBody },
        { header: scheme.header, algorithm: 'sha256', encoding: 'hex', prefix: 'sha256=' },
        { keys, nowInSeconds },
      );
    case 'hmac':
      return verifyHmacSignature({ headers, rawBody }, scheme, { keys, nowInSeconds });
    case 'standard-webhooks':
      return verifyStandardWebhook({ headers, rawBody }, { keys, nowInSeconds, toleranceInSeconds: scheme.toleranceInSeconds });
    case 'api-key':
      return verifyApiKey(headers, scheme.header, keys);
    case 'basic':
      return verifyBasicCredentials(headers, scheme.username, keys);
  }
}

/**
 * Returns the `WWW-Authenticate` challenge of a scheme. RFC 9110 requires one in every 401.
 * Only Basic is a registered scheme, and the others name the header to send.
 */
function challengeOf(scheme: CredentialSchemeConfig, connectorId: string): string {
  switch (scheme.type) {
    case 'basic':
      return `Basic realm="${connectorId}", charset="UTF-8"`;
    case 'hmac-sha256':
      return `HMAC-SHA256 header="${scheme.header}"`;
    case 'hmac':
      return `HMAC-${scheme.algorithm.toUpperCase()} header="${scheme.header}"`;
    case 'standard-webhooks':
      return `StandardWebhooks header="${webhookSignatureHeader}"`;
    case 'api-key':
      return `ApiKey header="${scheme.header}"`;
  }
}
