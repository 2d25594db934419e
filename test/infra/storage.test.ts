import { beforeAll, describe, expect, test } from 'vitest';
import { declareTestInfrastructure } from './declareTestInfrastructure';
import { resourceNamed, resourcesOfType, type RecordedResource } from './pulumiMocks';

let recorded: RecordedResource[];

beforeAll(async () => {
  ({ recorded } = await declareTestInfrastructure());
});

describe.each(['payload-storage', 'runtime-storage'])('%s account', (logicalName) => {
  const account = () => resourceNamed(recorded, logicalName).inputs;

  test('requires TLS 1.2', () => {
    expect(account().minimumTlsVersion).toBe('TLS1_2');
  });

  test('accepts HTTPS only', () => {
    expect(account().enableHttpsTrafficOnly).toBe(true);
  });

  test('has public blob access off', () => {
    expect(account().allowBlobPublicAccess).toBe(false);
  });

  test('has shared key access off', () => {
    expect(account().allowSharedKeyAccess).toBe(false);
  });

  test('keeps deleted blobs 7 days', () => {
    const blobService = resourceNamed(recorded, `${logicalName}-blob-service`).inputs;
    expect(blobService.deleteRetentionPolicy).toEqual({ enabled: true, days: 7 });
  });

  test('keeps deleted containers 7 days', () => {
    const blobService = resourceNamed(recorded, `${logicalName}-blob-service`).inputs;
    expect(blobService.containerDeleteRetentionPolicy).toEqual({ enabled: true, days: 7 });
  });
});

describe('payload account', () => {
  const containersOfPayloadAccount = () =>
    resourcesOfType(recorded, 'azure-native:storage:BlobContainer').filter((container) => container.inputs.accountName === 'connpayx7k2qp');

  test('has the payload containers', () => {
    const names = containersOfPayloadAccount().map((container) => container.inputs.containerName);
    expect(names.sort()).toEqual(['dead-letters', 'payloads', 'quarantine', 'raw', 'transformed']);
  });

  test('containers are private', () => {
    const publicAccess = new Set(containersOfPayloadAccount().map((container) => container.inputs.publicAccess));
    expect([...publicAccess]).toEqual(['None']);
  });

  test.each([
    ['raw', 14],
    ['transformed', 21],
    ['quarantine', 60],
  ])('lifecycle deletes %s after configured days', (containerName, days) => {
    const rules = resourceNamed(recorded, 'payload-lifecycle').inputs.policy.rules as any[];
    const rule = rules.find((candidate) => candidate.definition.filters.prefixMatch.includes(`${containerName}/`));
    expect(rule?.definition.actions.baseBlob.delete.daysAfterCreationGreaterThan).toBe(days);
  });

  test.each(['raw', 'transformed', 'quarantine'])('lifecycle covers payloads/%s prefix', (containerName) => {
    const rules = resourceNamed(recorded, 'payload-lifecycle').inputs.policy.rules as any[];
    const prefixes = rules.flatMap((rule) => rule.definition.filters.prefixMatch);
    expect(prefixes).toContain(`payloads/${containerName}/`);
  });

  test('lifecycle rules are enabled', () => {
    const rules = resourceNamed(recorded, 'payload-lifecycle').inputs.policy.rules as any[];
    expect(rules.every((rule) => rule.enabled === true)).toBe(true);
  });

  test('lifecycle keeps dead letters', () => {
    const rules = resourceNamed(recorded, 'payload-lifecycle').inputs.policy.rules as any[];
    const prefixes = rules.flatMap((rule) => rule.definition.filters.prefixMatch as string[]);
    expect(prefixes.filter((prefix) => prefix.startsWith('dead-letters'))).toEqual([]);
  });
});

describe('runtime account', () => {
  test('has the deployment container', () => {
    expect(resourceNamed(recorded, 'runtime-deployments').inputs.containerName).toBe('deployments');
  });

  test('is a separate account', () => {
    expect(resourceNamed(recorded, 'runtime-storage').inputs.accountName).not.toBe(resourceNamed(recorded, 'payload-storage').inputs.accountName);
  });
});

describe('names', () => {
  test('end in the random suffix', () => {
    expect(resourceNamed(recorded, 'key-vault').inputs.vaultName).toBe('conn-kv-x7k2qp');
  });

  test('storage account name fits Azure rules', () => {
    expect(resourceNamed(recorded, 'payload-storage').inputs.accountName).toMatch(/^[a-z0-9]{3,24}$/);
  });
});
