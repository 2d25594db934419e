import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';

export const defaultSampleTargetPort = 9000;

/** Maximum request body the sample target reads. Larger requests get 413. */
const maxBodyBytes = 10 * 1024 * 1024;

export interface SampleTarget {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a stand-in destination API on 127.0.0.1 that responds with 200 to every delivery
 * and logs it as one JSON line with the path, the idempotency key and the body.
 * Port 0 picks a free port.
 */
export async function startSampleTarget(port: number = defaultSampleTargetPort, logger: pino.Logger = pino()): Promise<SampleTarget> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    let byteCount = 0;

    request.on('data', (chunk: Buffer) => {
      byteCount += chunk.byteLength;
      if (byteCount <= maxBodyBytes) {
        chunks.push(chunk);
      }
    });
    request.on('end', () => {
      if (byteCount > maxBodyBytes) {
        logger.warn({ path: request.url, sizeInBytes: byteCount, maxBodyBytes }, 'delivery rejected: body too large');
        response.writeHead(413, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ received: false }));
        return;
      }

      const text = Buffer.concat(chunks).toString('utf8');
      logger.info(
        { method: request.method, path: request.url, idempotencyKey: request.headers['idempotency-key'] ?? null, body: parseJsonOrText(text) },
        'delivery received',
      );
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ received: true }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const boundPort = (server.address() as AddressInfo).port;
  logger.info({ port: boundPort }, 'sample target listening on 127.0.0.1');

  return {
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function main(): Promise<void> {
  const portText = process.env.SAMPLE_TARGET_PORT;
  const port = portText === undefined || portText === '' ? defaultSampleTargetPort : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`SAMPLE_TARGET_PORT is "${portText}", but it must be a port number from 0 to 65535.`);
  }

  const target = await startSampleTarget(port);
  const stop = (): void => {
    void target.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
