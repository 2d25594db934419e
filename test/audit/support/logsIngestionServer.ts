import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { TestCertificates } from '../../unit/delivery/support/testCertificates';
import { testAccessToken } from '../../secrets/support/testCredential';

export interface UploadRequest {
  path: string;
  apiVersion: string | null;
  authorization: string | undefined;
  contentEncoding: string | undefined;
  /** The body after gunzip, as text. */
  body: string;
  status: number;
}

/**
 * A loopback HTTPS server on 127.0.0.1 that responds to the Logs Ingestion API call that
 * `LogsIngestionClient.upload` makes: `POST /dataCollectionRules/{ruleId}/streams/{stream}?api-version=2023-01-01`
 * with a gzip JSON array, with 204.
 */
export interface LogsIngestionServer {
  endpoint: string;
  requests: UploadRequest[];
  /** Makes the next `count` uploads respond 500. */
  failNextUploads(count: number): void;
  /** The rows of every upload that got 204, in order. */
  acceptedRows(): Array<Record<string, unknown>>;
  /** Resolves once `count` uploads have been received, or rejects after `timeoutInMilliseconds`. */
  waitForRequests(count: number, timeoutInMilliseconds?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startLogsIngestionServer(certificates: TestCertificates): Promise<LogsIngestionServer> {
  const requests: UploadRequest[] = [];
  let failuresLeft = 0;

  const server = https.createServer({ cert: certificates.serverCertificate, key: certificates.serverKey }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'https://127.0.0.1');
      const raw = Buffer.concat(chunks);
      const contentEncoding = request.headers['content-encoding'];
      const record: UploadRequest = {
        path: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        authorization: request.headers.authorization,
        contentEncoding,
        body: (contentEncoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
        status: 204,
      };
      const reply = (status: number, body?: unknown): void => {
        record.status = status;
        requests.push(record);
        response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
        response.end(body === undefined ? undefined : JSON.stringify(body));
      };

      if (record.authorization !== `Bearer ${testAccessToken}`) {
        reply(401, { error: { code: 'InvalidToken', message: 'The bearer token is missing or invalid.' } });
      } else if (request.method !== 'POST' || !/^\/dataCollectionRules\/[^/]+\/streams\/[^/]+$/.test(url.pathname)) {
        reply(404, { error: { code: 'NotFound', message: `This test server supports only POST /dataCollectionRules/{ruleId}/streams/{stream}, not ${request.method} ${url.pathname}` } });
      } else if (failuresLeft > 0) {
        failuresLeft -= 1;
        reply(500, { error: { code: 'InternalServerError', message: 'The test server was told to fail this upload.' } });
      } else {
        reply(204);
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    requests,
    failNextUploads: (count) => {
      failuresLeft = count;
    },
    acceptedRows: () => requests.filter((entry) => entry.status === 204).flatMap((entry) => JSON.parse(entry.body) as Array<Record<string, unknown>>),
    waitForRequests: async (count, timeoutInMilliseconds = 5000) => {
      const pollInMilliseconds = 20;
      for (let waited = 0; waited < timeoutInMilliseconds; waited += pollInMilliseconds) {
        if (requests.length >= count) {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, pollInMilliseconds));
      }
      throw new Error(`expected ${count} uploads within ${timeoutInMilliseconds} ms, got ${requests.length}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
