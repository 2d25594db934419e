import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  receivedAt: number;
}

/** A status code to respond with, or a function that picks one for each request. */
export type StatusPlan = (request: ReceivedRequest, index: number) => number;

export interface TargetServer {
  url: string;
  requests: ReceivedRequest[];
  /** Sets the status plan for requests to `path`; 200 where no plan is set. */
  plan(path: string, statusPlan: StatusPlan): void;
  close(): Promise<void>;
}

/** Starts a real HTTP server on 127.0.0.1 that records every request, standing in for a target API. */
export async function startTargetServer(): Promise<TargetServer> {
  const requests: ReceivedRequest[] = [];
  const plans = new Map<string, StatusPlan>();
  const countsByPath = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0];
      const received: ReceivedRequest = {
        method: request.method ?? 'GET',
        path,
        headers: request.headers,
        body: Buffer.concat(chunks),
        receivedAt: Date.now(),
      };
      requests.push(received);
      const index = countsByPath.get(path) ?? 0;
      countsByPath.set(path, index + 1);
      const status = plans.get(path)?.(received, index) ?? 200;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    plan: (path, statusPlan) => plans.set(path, statusPlan),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
