import https from 'node:https';
import type { AddressInfo } from 'node:net';

/** A request that the fake Data Factory received. */
export interface DataFactoryRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  apiVersion: string | null;
  authorization: string | undefined;
  body: unknown;
}

/** A response that a handler returns. The body is sent as JSON. */
export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

/** The pipeline run the fake started, with the parameters it was given. */
export interface FakeRun {
  runId: string;
  pipelineName: string;
  parameters: Record<string, string>;
  /** Number of status reads so far, this one included. */
  reads: number;
}

export interface FakeDataFactoryHandlers {
  /** Returns the response to `createRun`, or undefined to start a run and return its id. */
  createRun?: (pipelineName: string, request: DataFactoryRequest) => FakeResponse | undefined;
  /** Returns the response to a status read of a run that the fake started. Without it the run is `InProgress`. */
  readRun?: (run: FakeRun, request: DataFactoryRequest) => FakeResponse | Promise<FakeResponse>;
}

export interface FakeDataFactory {
  /** The https URL to use as the Azure Resource Manager endpoint. */
  endpoint: string;
  requests: DataFactoryRequest[];
  runs: Map<string, FakeRun>;
  handlers: FakeDataFactoryHandlers;
  close(): Promise<void>;
}

export const dataFactoryApiVersion = '2018-06-01';

const createRunPattern = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.DataFactory\/factories\/([^/]+)\/pipelines\/([^/]+)\/createRun$/;
const readRunPattern = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.DataFactory\/factories\/([^/]+)\/pipelineruns\/([^/]+)$/;

/**
 * Starts an HTTPS server on 127.0.0.1 that responds to the Azure Resource Manager requests for
 * pipeline runs as the Data Factory REST API (2018-06-01) documents them: `POST .../pipelines/{pipeline}/createRun` with
 * `{ runId }` and `GET .../pipelineruns/{runId}` with the run. Other paths get 404 with an ARM
 * error body. Handlers replace the default responses.
 */
export async function startFakeDataFactory(tlsMaterial: { certificate: string; key: string }, handlers: FakeDataFactoryHandlers = {}): Promise<FakeDataFactory> {
  const requests: DataFactoryRequest[] = [];
  const runs = new Map<string, FakeRun>();
  let runCount = 0;
  const fake = { handlers };

  const answer = async (request: DataFactoryRequest): Promise<FakeResponse> => {
    const createRun = request.method === 'POST' ? createRunPattern.exec(request.path) : null;
    if (createRun !== null) {
      const pipelineName = decodeURIComponent(createRun[4]);
      const planned = fake.handlers.createRun?.(pipelineName, request);
      if (planned !== undefined) {
        return planned;
      }
      runCount += 1;
      const runId = `00000000-0000-4000-8000-${String(runCount).padStart(12, '0')}`;
      runs.set(runId, { runId, pipelineName, parameters: (request.body ?? {}) as Record<string, string>, reads: 0 });
      return { status: 200, body: { runId } };
    }

    const readRun = request.method === 'GET' ? readRunPattern.exec(request.path) : null;
    const run = readRun === null ? undefined : runs.get(decodeURIComponent(readRun[4]));
    if (run !== undefined) {
      run.reads += 1;
      if (fake.handlers.readRun !== undefined) {
        return fake.handlers.readRun(run, request);
      }
      return { status: 200, body: describeRun(run, 'InProgress', '') };
    }
    return { status: 404, body: { error: { code: 'ResourceNotFound', message: `The resource ${request.path} was not found.` } } };
  };

  const server = https.createServer({ cert: tlsMaterial.certificate, key: tlsMaterial.key }, (incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'https://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const request: DataFactoryRequest = {
        method: incoming.method ?? 'GET',
        path: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        authorization: incoming.headers.authorization,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
      requests.push(request);
      void answer(request).then(
        (result) => {
          response.writeHead(result.status, { 'content-type': 'application/json; charset=utf-8', ...result.headers });
          response.end(JSON.stringify(result.body));
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
          response.end(JSON.stringify({ error: { code: 'FakeFailure', message: String(error) } }));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `https://127.0.0.1:${port}`,
    requests,
    runs,
    handlers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Returns the body of `GET .../pipelineruns/{runId}` for a run in `status`. */
export function describeRun(run: FakeRun, status: string, message: string): Record<string, unknown> {
  return {
    runId: run.runId,
    runGroupId: run.runId,
    isLatest: true,
    pipelineName: run.pipelineName,
    parameters: run.parameters,
    invokedBy: { name: 'Manual', id: 'manual-invocation', invokedByType: 'Manual' },
    runStart: '2026-12-04T12:00:00.0000000Z',
    lastUpdated: '2026-12-04T12:00:01.0000000Z',
    status,
    message,
  };
}
