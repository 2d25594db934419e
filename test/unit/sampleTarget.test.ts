import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, test } from 'vitest';
import { startSampleTarget, type SampleTarget } from '../../examples/sampleTarget';

function captureLogger(lines: Record<string, unknown>[]): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return pino(stream);
}

describe('startSampleTarget', () => {
  let target: SampleTarget | undefined;

  afterEach(async () => {
    await target?.close();
  });

  test('answers 200 and logs the delivery', async () => {
    const lines: Record<string, unknown>[] = [];
    target = await startSampleTarget(0, captureLogger(lines));

    const response = await fetch(`http://127.0.0.1:${target.port}/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'orders-abc:erp' },
      body: '{"id":"123"}',
    });

    expect(response.status).toBe(200);
    const delivery = lines.find((line) => line.msg === 'delivery received');
    expect(delivery).toMatchObject({ path: '/orders', idempotencyKey: 'orders-abc:erp', body: { id: '123' } });
  });
});
