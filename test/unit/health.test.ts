import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { FilePayloadStore } from '../../lib/payloadStore/FilePayloadStore';
import { checkHealth } from '../../triggers/health';
import { createTestDependencies, type TestDependencies } from './support/testDependencies';

/** The health endpoint's checks against a real SQLite tracking store and a real file payload store. */

let dependencies: TestDependencies | undefined;

afterEach(() => {
  dependencies?.dispose();
  dependencies = undefined;
});

function bodyOf(response: { body?: unknown }): Record<string, unknown> {
  return JSON.parse(response.body as string) as Record<string, unknown>;
}

describe('health', () => {
  test('healthy stores respond 200', async () => {
    dependencies = createTestDependencies();

    const response = await checkHealth(dependencies);

    expect(response.status).toBe(200);
    expect(bodyOf(response)).toEqual({ status: 'ok' });
  });

  test('closed tracking store gives 503', async () => {
    dependencies = createTestDependencies();
    const closed = createTestDependencies();
    closed.trackingStore.close();

    const response = await checkHealth({ ...dependencies, trackingStore: closed.trackingStore });
    closed.dispose();

    expect(response.status).toBe(503);
    expect((response.headers as Record<string, string>)['Content-Type']).toBe('application/problem+json');
    expect(bodyOf(response).failingDependencies).toEqual(['trackingStore']);
  });

  test('broken payload store gives 503', async () => {
    dependencies = createTestDependencies();
    // A payload folder that is a file makes every lookup fail with ENOTDIR.
    const blockingFile = path.join(dependencies.dataDir, 'not-a-folder');
    fs.writeFileSync(blockingFile, 'blocks the payload folder');

    const response = await checkHealth({ ...dependencies, payloadStore: new FilePayloadStore(blockingFile) });

    expect(response.status).toBe(503);
    expect(bodyOf(response).failingDependencies).toEqual(['payloadStore']);
    expect(bodyOf(response).detail).toContain('payloadStore');
    expect(response.body).not.toContain(dependencies.dataDir);
  });

  test('slow payload store times out', async () => {
    dependencies = createTestDependencies();
    const neverAnswers = { ...dependencies.payloadStore, exists: () => new Promise<boolean>(() => undefined) };

    const startedAt = Date.now();
    const response = await checkHealth({ ...dependencies, payloadStore: neverAnswers }, 100);

    expect(response.status).toBe(503);
    expect(Date.now() - startedAt).toBeLessThan(2000);
  });
});
