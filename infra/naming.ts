import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';

/**
 * Names of the resources that must be unique in Azure. Each ends in one random suffix that
 * stays fixed for the stack's life, so a stack torn down while Key Vault purge protection still
 * reserves the old vault name can be created again under new names.
 */
export interface ResourceNames {
  suffix: pulumi.Output<string>;
  resourceGroup: pulumi.Output<string>;
  payloadStorageAccount: pulumi.Output<string>;
  runtimeStorageAccount: pulumi.Output<string>;
  functionApp: pulumi.Output<string>;
  keyVault: pulumi.Output<string>;
  sqlServer: pulumi.Output<string>;
  eventGridTopic: pulumi.Output<string>;
  dataFactory: pulumi.Output<string>;
  frontDoorEndpoint: pulumi.Output<string>;
  logAnalyticsWorkspace: pulumi.Output<string>;
}

/** Length of the random suffix. Six characters of [a-z0-9] give about 2 billion names. */
export const nameSuffixLength = 6;

/** Declares the random suffix and derives every resource name from `namePrefix` and it. */
export function createResourceNames(namePrefix: string): ResourceNames {
  const suffix = new random.RandomString('name-suffix', {
    length: nameSuffixLength,
    upper: false,
    special: false,
    numeric: true,
    lower: true,
  }).result;

  // Storage account names allow only 3 to 24 lowercase letters and digits, and Key Vault names
  // at most 24 characters, so a prefix of at most 10 characters always fits.
  const withSuffix = (pattern: (suffixText: string) => string) => suffix.apply(pattern);
  return {
    suffix,
    resourceGroup: withSuffix((s) => `${namePrefix}-rg-${s}`),
    payloadStorageAccount: withSuffix((s) => `${namePrefix}pay${s}`),
    runtimeStorageAccount: withSuffix((s) => `${namePrefix}fn${s}`),
    functionApp: withSuffix((s) => `${namePrefix}-func-${s}`),
    keyVault: withSuffix((s) => `${namePrefix}-kv-${s}`),
    sqlServer: withSuffix((s) => `${namePrefix}-sql-${s}`),
    eventGridTopic: withSuffix((s) => `${namePrefix}-events-${s}`),
    dataFactory: withSuffix((s) => `${namePrefix}-adf-${s}`),
    frontDoorEndpoint: withSuffix((s) => `${namePrefix}-${s}`),
    logAnalyticsWorkspace: withSuffix((s) => `${namePrefix}-logs-${s}`),
  };
}
