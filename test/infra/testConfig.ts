import { readInfraConfig, type InfraConfig } from '../../infra/config';

/** Stack settings of the infrastructure tests, by config key. */
export const testConfigValues: Record<string, string> = {
  location: 'westeurope',
  namePrefix: 'conn',
  rawRetentionDays: '14',
  transformedRetentionDays: '21',
  quarantineRetentionDays: '60',
  partnerIpRanges: '["203.0.113.0/24","198.51.100.7/32"]',
  alertEmail: 'ops@example.com',
  sqlEntraAdminLogin: 'connector-sql-admins',
  sqlEntraAdminObjectId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  secretRefs: '["ORDERS_HMAC_SECRET"]',
  subscribeEventGridTrigger: 'true',
};

/** Returns the test settings read by the program's own config reader. */
export function testInfraConfig(overrides: Record<string, string | undefined> = {}): InfraConfig {
  const values: Record<string, string | undefined> = { ...testConfigValues, ...overrides };
  return readInfraConfig((key) => values[key]);
}
