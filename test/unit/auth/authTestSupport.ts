import { expect } from 'vitest';
import { authenticateRequest, type AuthenticationOutcome } from '../../../lib/auth/authenticateRequest';
import type { AuthRejection } from '../../../lib/auth/authRejection';
import { parseConnectors } from '../../../lib/config/loadConnectors';
import type { Connector } from '../../../lib/config/types';

/** 2024-05-01T10:00:00Z in Unix seconds: the server time of the tests. */
export const nowInSeconds = 1_714_557_600;

export const body = Buffer.from('{"orderId":"1001","status":"shipped","note":"Grüße"}', 'utf8');

/** Settings of the tests' secret store. `NEXT` is the second secret of a rotation. */
export const secretSettings: Record<string, string> = {
  CURRENT: 'current-secret-value',
  NEXT: 'next-secret-value',
  WEBHOOK_CURRENT: `whsec_${Buffer.from('current-webhook-key-24-bytes!').toString('base64')}`,
  WEBHOOK_NEXT: `whsec_${Buffer.from('next-webhook-key-of-24-bytes').toString('base64')}`,
};

/** Returns a connector with `auth` after validation, so the schema's defaults are filled in. */
export function connectorWith(auth: unknown, inbound: Record<string, unknown> = {}, fileFields: Record<string, unknown> = {}): Connector {
  const connector = { id: 'partner', inbound: { auth, ...inbound }, destinations: [{ id: 'erp', url: 'https://erp.example.com/orders' }] };
  return parseConnectors(JSON.stringify({ ...fileFields, connectors: [connector] }), 'connectors.json').list[0];
}

export interface AuthenticateOptions {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Server time in Unix seconds. */
  now?: number;
  settings?: Record<string, string>;
  /** The socket address that the host passes in `x-client-ip`. */
  socketAddress?: string;
}

/** Authenticates a request from 127.0.0.1 with the tests' secret store and clock. */
export function authenticate(connector: Connector, options: AuthenticateOptions = {}): AuthenticationOutcome {
  const headers = new Headers(options.headers ?? {});
  headers.set('x-client-ip', options.socketAddress ?? '127.0.0.1');
  const settings = options.settings ?? secretSettings;
  return authenticateRequest({ headers }, options.body ?? body, connector, {
    readSecret: (secretRef) => settings[secretRef],
    clock: () => new Date((options.now ?? nowInSeconds) * 1000),
  });
}

/** Returns the rejection of an outcome, and fails the test when the request was not rejected. */
export function rejectionOf(outcome: AuthenticationOutcome): AuthRejection {
  expect(outcome.status).toBe('rejected');
  if (outcome.status !== 'rejected') {
    throw new Error(`expected a rejection, got ${outcome.status}`);
  }
  return outcome.rejection;
}
