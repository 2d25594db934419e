import type { HttpResponseInit } from '@azure/functions';
import type pino from 'pino';
import type { Connector } from '../config/types';
import { problemResponse, problemTypes } from '../http/problem';
import { authenticateRequest, type AuthenticationDependencies } from './authenticateRequest';
import type { RequestHeaders } from './clientAddress';

/**
 * Authenticates an inbound request and returns undefined when it passes. Otherwise logs the
 * reason and returns the problem response: 401 for a missing or invalid credential, 403 for
 * a client address outside an IP allowlist, and 500 when no secret of the scheme is usable.
 * Neither the log nor the response contains a secret or an expected signature.
 */
export function checkInboundAuthentication(
  request: { headers: RequestHeaders },
  rawBody: Uint8Array,
  connector: Pick<Connector, 'id' | 'inbound'>,
  dependencies: AuthenticationDependencies & { logger: pino.Logger },
): HttpResponseInit | undefined {
  const outcome = authenticateRequest(request, rawBody, connector, dependencies);
  const clientFields = { connectorId: connector.id, clientAddress: outcome.client.address, clientAddressSource: outcome.client.source };

  if (outcome.status === 'accepted') {
    return undefined;
  }

  if (outcome.status === 'misconfigured') {
    dependencies.logger.error(
      { ...clientFields, authType: outcome.scheme.type, missingSecretRefs: outcome.secrets.missing, invalidSecretRefs: outcome.secrets.invalid },
      'connector secret setting is not set or invalid',
    );
    return problemResponse({
      type: problemTypes.connectorMisconfigured,
      title: 'Connector not configured',
      status: 500,
      detail: `Connector "${connector.id}" cannot verify requests because its secret is not configured. Contact the operator of this endpoint.`,
    });
  }

  const { rejection } = outcome;
  dependencies.logger.warn(
    { ...clientFields, status: rejection.status, reason: rejection.reason, header: rejection.header },
    'inbound request failed authentication',
  );
  const extensions: Record<string, unknown> = { connectorId: connector.id, reason: rejection.reason };
  if (rejection.header !== undefined) extensions.header = rejection.header;
  if (rejection.serverTimestamp !== undefined) extensions.serverTimestamp = rejection.serverTimestamp;
  if (rejection.toleranceInSeconds !== undefined) extensions.toleranceInSeconds = rejection.toleranceInSeconds;
  if (rejection.clientAddress !== undefined) extensions.clientAddress = rejection.clientAddress;

  const headers: Record<string, string> = outcome.challenge === undefined ? {} : { 'WWW-Authenticate': outcome.challenge };
  return problemResponse(
    {
      type: rejection.status === 403 ? problemTypes.forbidden : problemTypes.unauthorized,
      title: rejection.title,
      status: rejection.status,
      detail: rejection.detail,
      extensions,
    },
    headers,
  );
}
