import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCertificates } from '../../unit/delivery/support/testCertificates';
import { testAccessToken } from './testCredential';

/**
 * The challenge that Key Vault sends to a request without a token. `SecretClient` requests a
 * token from its credential only after it receives this challenge.
 */
export const keyVaultChallenge = 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"';

export interface KeyVaultRequest {
  method: string;
  path: string;
  apiVersion: string | null;
  authorization: string | undefined;
}

/**
 * A loopback HTTPS server on 127.0.0.1 that responds to the Key Vault REST calls `SecretClient.getSecret`
 * makes: `GET /secrets/{name}/{version}?api-version=...`. Names are case-insensitive, as in Key Vault.
 */
export interface KeyVaultServer {
  /** The vault URL, such as https://127.0.0.1:43210/. */
  vaultUrl: string;
  requests: KeyVaultRequest[];
  setSecret(name: string, value: string): void;
  deleteSecret(name: string): void;
  /** Makes the next `count` secret reads respond 500. */
  failNextReads(count: number): void;
  /** Requests that asked for a secret, leaving out the unauthenticated challenge requests. */
  secretReads(): KeyVaultRequest[];
  close(): Promise<void>;
}

export async function startKeyVaultServer(certificates: TestCertificates): Promise<KeyVaultServer> {
  const secrets = new Map<string, { value: string; version: string }>();
  const requests: KeyVaultRequest[] = [];
  let failuresLeft = 0;
  let versionCount = 0;

  const server = https.createServer({ cert: certificates.serverCertificate, key: certificates.serverKey }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const record: KeyVaultRequest = { method: request.method ?? '', path: url.pathname, apiVersion: url.searchParams.get('api-version'), authorization: request.headers.authorization };
    requests.push(record);
    request.resume();

    const sendJson = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(JSON.stringify(body));
    };

    if (record.authorization !== `Bearer ${testAccessToken}`) {
      sendJson(401, { error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' } }, { 'www-authenticate': keyVaultChallenge });
      return;
    }
    const match = /^\/secrets\/([^/]+)\/?([^/]*)$/.exec(url.pathname);
    if (request.method !== 'GET' || match === null || record.apiVersion === null) {
      sendJson(400, { error: { code: 'BadParameter', message: `This test server supports only GET /secrets/{name}?api-version=..., not ${request.method} ${url.pathname}` } });
      return;
    }
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      sendJson(500, { error: { code: 'InternalServerError', message: 'The test server was told to fail this read.' } });
      return;
    }

    const name = decodeURIComponent(match[1]);
    const secret = secrets.get(name.toLowerCase());
    if (secret === undefined) {
      sendJson(404, { error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` } });
      return;
    }
    sendJson(200, {
      value: secret.value,
      id: `${vaultUrl}secrets/${name}/${secret.version}`,
      attributes: { enabled: true, created: 1714557600, updated: 1714557600, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
      tags: {},
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const vaultUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    vaultUrl,
    requests,
    setSecret: (name, value) => {
      versionCount += 1;
      secrets.set(name.toLowerCase(), { value, version: versionCount.toString(16).padStart(32, '0') });
    },
    deleteSecret: (name) => {
      secrets.delete(name.toLowerCase());
    },
    failNextReads: (count) => {
      failuresLeft = count;
    },
    secretReads: () => requests.filter((entry) => entry.authorization !== undefined),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
