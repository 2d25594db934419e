import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { parseConnectors } from '../../../../lib/config/loadConnectors';
import type { DestinationConfig } from '../../../../lib/config/types';
import type { DeliveryContext, DeliveryRequest } from '../../../../lib/delivery/deliverOnce';
import { OutboundClient } from '../../../../lib/delivery/outboundClient';
import { ordersConnector, testNow } from '../../support/testDependencies';

/** One request as a scripted target received it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Common name of the client certificate, on an HTTPS target that requested one. */
  clientCertificateSubject?: string;
}

/**
 * Handles request number `index` (0-based, counted over all paths) of a scripted target. The
 * request body is read before the handler runs.
 */
export type TargetHandler = (request: ReceivedRequest, response: http.ServerResponse, index: number) => void;

export interface ScriptedTarget {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts a loopback HTTP server, or an HTTPS one with `tlsOptions`, that records each request and lets `handler` respond. */
export async function startScriptedTarget(handler: TargetHandler, tlsOptions?: https.ServerOptions): Promise<ScriptedTarget> {
  const requests: ReceivedRequest[] = [];
  const listener: http.RequestListener = (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ReceivedRequest = { method: request.method ?? '', path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks) };
      if (request.socket instanceof tls.TLSSocket) {
        const subject = request.socket.getPeerCertificate().subject as { CN?: string } | undefined;
        received.clientCertificateSubject = subject?.CN;
      }
      requests.push(received);
      handler(received, response, requests.length - 1);
    });
  };
  const server = tlsOptions === undefined ? http.createServer(listener) : https.createServer(tlsOptions, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = tlsOptions === undefined ? 'http' : 'https';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Responds with `statusCode`, the given headers and a short text body. */
export function respondWith(statusCode: number, headers: Record<string, string> = {}): TargetHandler {
  return (_request, response) => {
    response.writeHead(statusCode, { 'content-type': 'text/plain', ...headers });
    response.end(`status ${statusCode}`);
  };
}

/**
 * Returns the destination `erp` of the orders connector after the connectors file schema applied
 * its defaults, with `overrides` merged in. It may reach 127.0.0.1 only.
 */
export function destinationOf(overrides: Record<string, unknown>): DestinationConfig {
  const connector = ordersConnector();
  connector.destinations = [{ id: 'erp', url: 'http://127.0.0.1:9/orders', allowedPrivateRanges: ['127.0.0.1/32'], timeoutInMilliseconds: 5000, ...overrides }];
  return parseConnectors(JSON.stringify({ connectors: [connector] }), 'connectors.json').list[0].destinations[0];
}

export interface TestDeliveryContext extends DeliveryContext {
  /** The settings that `readSecret` returns. */
  secrets: Record<string, string>;
  /** The time that `clock` returns; tests move it. */
  now: Date;
  /** Access tokens passed to `onAccessToken`. */
  accessTokens: string[];
  close(): Promise<void>;
}

/** Builds a delivery context with its own connection pools, whose secrets and clock a test sets. */
export function createDeliveryContext(secrets: Record<string, string> = {}): TestDeliveryContext {
  const accessTokens: string[] = [];
  const outbound = new OutboundClient({ onAccessToken: (accessToken) => accessTokens.push(accessToken) });
  const context: TestDeliveryContext = {
    outbound,
    secrets,
    now: new Date(testNow),
    accessTokens,
    readSecret: (secretRef) => context.secrets[secretRef],
    clock: () => new Date(context.now),
    lookupAddresses: async (hostname) => {
      throw new Error(`delivery tests resolve no host names, but ${hostname} was looked up`);
    },
    close: () => outbound.close(),
  };
  return context;
}

export const testMessageId = 'orders-0123456789abcdef0123456789abcdef';

/** Returns a request of attempt `attemptNumber` (default 1) that sends `{"id":"1"}` to `destination`. */
export function deliveryRequest(destination: DestinationConfig, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    connectorId: 'orders',
    destination,
    messageId: testMessageId,
    body: Buffer.from('{"id":"1"}'),
    contentType: 'application/json',
    idempotencyKey: `${testMessageId}:erp`,
    attemptNumber: 1,
    ...overrides,
  };
}
