/**
 * Stack settings of the infrastructure program, read from Pulumi config and checked before any
 * resource is declared. Pulumi.sample.yaml documents each key.
 */

/** Function that returns one config value of the project's namespace, or undefined when it is not set. */
export type ConfigReader = (key: string) => string | undefined;

export interface RetentionInDays {
  raw: number;
  transformed: number;
  quarantine: number;
}

export interface InfraConfig {
  location: string;
  /** Lowercase letters and digits that start every resource name, 2 to 10 characters. */
  namePrefix: string;
  /** SKU of both storage accounts, such as Standard_ZRS. */
  storageSkuName: string;
  /** SKU of the tracking database, such as GP_S_Gen5_1 or S0. */
  sqlDatabaseSkuName: string;
  /** Memory of one Flex Consumption instance: 512, 2048 or 4096 MB. */
  functionInstanceMemoryInMegabytes: number;
  functionMaximumInstanceCount: number;
  /** Days after creation at which the lifecycle rules delete a payload blob, per container. */
  payloadRetentionInDays: RetentionInDays;
  blobSoftDeleteRetentionInDays: number;
  logRetentionInDays: number;
  /** Partner address ranges in CIDR notation whose ingest requests skip the WAF's rate limit and managed rule sets. */
  partnerIpRanges: string[];
  /** Requests per minute from one client address after which the WAF blocks it. */
  wafRateLimitPerMinute: number;
  alertEmail: string;
  sqlEntraAdmin: { login: string; objectId: string };
  /** Connector `secretRef` names whose values the app reads from Key Vault. */
  secretRefs: string[];
  /** Whether to subscribe the Event Grid trigger function, which must be published first. */
  subscribeEventGridTrigger: boolean;
}

export const configKeys = {
  location: 'location',
  namePrefix: 'namePrefix',
  storageSkuName: 'storageSku',
  sqlDatabaseSkuName: 'sqlDatabaseSku',
  functionInstanceMemoryInMegabytes: 'functionInstanceMemoryMB',
  functionMaximumInstanceCount: 'functionMaximumInstanceCount',
  rawRetentionInDays: 'rawRetentionDays',
  transformedRetentionInDays: 'transformedRetentionDays',
  quarantineRetentionInDays: 'quarantineRetentionDays',
  blobSoftDeleteRetentionInDays: 'blobSoftDeleteRetentionDays',
  logRetentionInDays: 'logRetentionDays',
  partnerIpRanges: 'partnerIpRanges',
  wafRateLimitPerMinute: 'wafRateLimitPerMinute',
  alertEmail: 'alertEmail',
  sqlEntraAdminLogin: 'sqlEntraAdminLogin',
  sqlEntraAdminObjectId: 'sqlEntraAdminObjectId',
  secretRefs: 'secretRefs',
  subscribeEventGridTrigger: 'subscribeEventGridTrigger',
} as const;

/** Raised for a missing or invalid stack setting. The message names the key and the fix. */
export class InfraConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InfraConfigError';
  }
}

const flexInstanceMemorySizesInMegabytes = [512, 2048, 4096];
const namePrefixPattern = /^[a-z][a-z0-9]{1,9}$/;
const secretRefPattern = /^[A-Za-z][A-Za-z0-9_-]{0,126}$/;
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ipv4CidrPattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Reads and checks every stack setting. Throws an InfraConfigError for the first invalid one. */
export function readInfraConfig(read: ConfigReader): InfraConfig {
  return {
    location: requireText(read, configKeys.location, 'an Azure region such as westeurope'),
    namePrefix: readNamePrefix(read),
    storageSkuName: read(configKeys.storageSkuName) ?? 'Standard_ZRS',
    sqlDatabaseSkuName: read(configKeys.sqlDatabaseSkuName) ?? 'GP_S_Gen5_1',
    functionInstanceMemoryInMegabytes: readInstanceMemory(read),
    functionMaximumInstanceCount: readInteger(read, configKeys.functionMaximumInstanceCount, 40, 1, 1000),
    payloadRetentionInDays: {
      raw: readInteger(read, configKeys.rawRetentionInDays, 30, 1, 36500),
      transformed: readInteger(read, configKeys.transformedRetentionInDays, 30, 1, 36500),
      quarantine: readInteger(read, configKeys.quarantineRetentionInDays, 90, 1, 36500),
    },
    blobSoftDeleteRetentionInDays: readInteger(read, configKeys.blobSoftDeleteRetentionInDays, 7, 1, 365),
    logRetentionInDays: readInteger(read, configKeys.logRetentionInDays, 30, 30, 730),
    partnerIpRanges: readPartnerIpRanges(read),
    wafRateLimitPerMinute: readInteger(read, configKeys.wafRateLimitPerMinute, 600, 10, 1_000_000),
    alertEmail: readAlertEmail(read),
    sqlEntraAdmin: {
      login: requireText(read, configKeys.sqlEntraAdminLogin, 'the display name of the Entra group or user that administers the database'),
      objectId: readGuid(read, configKeys.sqlEntraAdminObjectId, 'the object id of that Entra group or user'),
    },
    secretRefs: readSecretRefs(read),
    subscribeEventGridTrigger: readBoolean(read, configKeys.subscribeEventGridTrigger, false),
  };
}

function requireText(read: ConfigReader, key: string, expected: string): string {
  const value = read(key)?.trim();
  if (value === undefined || value === '') {
    throw new InfraConfigError(`Config ${key} is not set. Set it to ${expected}: pulumi config set ${key} <value>.`);
  }
  return value;
}

function readNamePrefix(read: ConfigReader): string {
  const value = read(configKeys.namePrefix) ?? 'connector';
  if (!namePrefixPattern.test(value)) {
    throw new InfraConfigError(
      `Config ${configKeys.namePrefix} is ${JSON.stringify(value)}, but it must be 2 to 10 lowercase letters and digits starting with a letter, ` +
        'because storage account names allow nothing else. Set it to a value such as "connector".',
    );
  }
  return value;
}

function readInteger(read: ConfigReader, key: string, defaultValue: number, minimum: number, maximum: number): number {
  const text = read(key);
  if (text === undefined) {
    return defaultValue;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    throw new InfraConfigError(
      `Config ${key} is ${JSON.stringify(text)}, but it must be a whole number from ${minimum} to ${maximum}. ` +
        `Set it to such a number, or remove it to use ${defaultValue}.`,
    );
  }
  return value;
}

function readInstanceMemory(read: ConfigReader): number {
  const key = configKeys.functionInstanceMemoryInMegabytes;
  const text = read(key);
  if (text === undefined) {
    return 2048;
  }
  const value = Number(text);
  if (!flexInstanceMemorySizesInMegabytes.includes(value)) {
    throw new InfraConfigError(
      `Config ${key} is ${JSON.stringify(text)}, but Flex Consumption offers only ${flexInstanceMemorySizesInMegabytes.join(', ')} MB. ` +
        'Set it to one of these, or remove it to use 2048.',
    );
  }
  return value;
}

function readBoolean(read: ConfigReader, key: string, defaultValue: boolean): boolean {
  const text = read(key);
  if (text === undefined) {
    return defaultValue;
  }
  if (text !== 'true' && text !== 'false') {
    throw new InfraConfigError(`Config ${key} is ${JSON.stringify(text)}, but it must be true or false.`);
  }
  return text === 'true';
}

function readGuid(read: ConfigReader, key: string, expected: string): string {
  const value = requireText(read, key, expected);
  if (!guidPattern.test(value)) {
    throw new InfraConfigError(`Config ${key} is ${JSON.stringify(value)}, but it must be a GUID: ${expected}.`);
  }
  return value;
}

function readAlertEmail(read: ConfigReader): string {
  const value = requireText(read, configKeys.alertEmail, 'the e-mail address that receives the alerts');
  if (!emailPattern.test(value)) {
    throw new InfraConfigError(`Config ${configKeys.alertEmail} is ${JSON.stringify(value)}, which is not an e-mail address. Set it to an address such as ops@example.com.`);
  }
  return value;
}

/** Reads a config value that must be a JSON array of strings; an unset value is an empty array. */
function readStringArray(read: ConfigReader, key: string, example: string): string[] {
  const text = read(key);
  if (text === undefined) {
    return [];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InfraConfigError(`Config ${key} is ${JSON.stringify(text)}, but it must be a JSON array of strings such as ${example}.`);
  }
  return value;
}

function readPartnerIpRanges(read: ConfigReader): string[] {
  const key = configKeys.partnerIpRanges;
  const ranges = readStringArray(read, key, '["203.0.113.0/24"]');
  for (const range of ranges) {
    if (!isIpv4Cidr(range)) {
      throw new InfraConfigError(
        `Config ${key} contains ${JSON.stringify(range)}, which is not an IPv4 range in CIDR notation. Write each range as address/prefix, such as "203.0.113.0/24".`,
      );
    }
  }
  return ranges;
}

function isIpv4Cidr(text: string): boolean {
  const match = ipv4CidrPattern.exec(text);
  if (match === null) {
    return false;
  }
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  return octets.every((octet) => octet <= 255) && prefixLength <= 32;
}

function readSecretRefs(read: ConfigReader): string[] {
  const key = configKeys.secretRefs;
  const secretRefs = readStringArray(read, key, '["ORDERS_HMAC_SECRET"]');
  for (const secretRef of secretRefs) {
    if (!secretRefPattern.test(secretRef)) {
      throw new InfraConfigError(
        `Config ${key} contains ${JSON.stringify(secretRef)}, but a secretRef used as an app setting must start with a letter and contain only letters, digits, "_" and "-".`,
      );
    }
  }
  return secretRefs;
}
