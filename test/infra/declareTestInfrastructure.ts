import * as pulumi from '@pulumi/pulumi';
import { installPulumiMocks, waitForRegistrations, type RecordedResource } from './pulumiMocks';
import { testInfraConfig } from './testConfig';
import type { ConnectorInfrastructure } from '../../infra/program';

export interface DeclaredInfrastructure {
  recorded: RecordedResource[];
  infrastructure: ConnectorInfrastructure;
}

/**
 * Installs the mocks, runs the program with the test config plus `overrides`, and waits until
 * every resource is recorded. Call it once per test file, because the mocks are per process.
 */
export async function declareTestInfrastructure(overrides: Record<string, string | undefined> = {}): Promise<DeclaredInfrastructure> {
  const recorded = installPulumiMocks();
  // Loaded after the mocks are set, so that no resource registers without them.
  const { createConnectorInfrastructure } = await import('../../infra/program');
  const infrastructure = createConnectorInfrastructure(testInfraConfig(overrides));
  await waitForRegistrations(recorded);
  return { recorded, infrastructure };
}

/** Returns `value` with every Pulumi secret wrapper replaced by the value it wraps. */
export function withoutSecretWrappers(value: unknown): any {
  if (Array.isArray(value)) {
    return value.map(withoutSecretWrappers);
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) {
      return withoutSecretWrappers(record.value);
    }
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, withoutSecretWrappers(item)]));
  }
  return value;
}

/** Returns whether `value` is a Pulumi secret wrapper, as the engine receives a secret input. */
export function isSecretWrapper(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}
