import { describe, expect, test } from 'vitest';
import { InfraConfigError } from '../../infra/config';
import { testInfraConfig } from './testConfig';

describe('readInfraConfig', () => {
  test('reads retention days per container', () => {
    expect(testInfraConfig().payloadRetentionInDays).toEqual({ raw: 14, transformed: 21, quarantine: 60 });
  });

  test('reads partner ranges', () => {
    expect(testInfraConfig().partnerIpRanges).toEqual(['203.0.113.0/24', '198.51.100.7/32']);
  });

  test('defaults Flex memory to 2048', () => {
    expect(testInfraConfig().functionInstanceMemoryInMegabytes).toBe(2048);
  });

  test('defaults subscription flag to false', () => {
    expect(testInfraConfig({ subscribeEventGridTrigger: undefined }).subscribeEventGridTrigger).toBe(false);
  });

  test('no partner ranges is empty list', () => {
    expect(testInfraConfig({ partnerIpRanges: undefined }).partnerIpRanges).toEqual([]);
  });

  test('rejects missing location', () => {
    expect(() => testInfraConfig({ location: undefined })).toThrow(
      'Config location is not set. Set it to an Azure region such as westeurope: pulumi config set location <value>.',
    );
  });

  test('rejects missing alert e-mail', () => {
    expect(() => testInfraConfig({ alertEmail: '  ' })).toThrow('Config alertEmail is not set.');
  });

  test('rejects invalid alert e-mail', () => {
    expect(() => testInfraConfig({ alertEmail: 'ops' })).toThrow('Config alertEmail is "ops", which is not an e-mail address.');
  });

  test('rejects uppercase name prefix', () => {
    expect(() => testInfraConfig({ namePrefix: 'Conn' })).toThrow('Config namePrefix is "Conn", but it must be 2 to 10 lowercase letters and digits');
  });

  test('rejects long name prefix', () => {
    expect(() => testInfraConfig({ namePrefix: 'connector12' })).toThrow(InfraConfigError);
  });

  test('rejects zero retention days', () => {
    expect(() => testInfraConfig({ rawRetentionDays: '0' })).toThrow(
      'Config rawRetentionDays is "0", but it must be a whole number from 1 to 36500. Set it to such a number, or remove it to use 30.',
    );
  });

  test('rejects fractional retention days', () => {
    expect(() => testInfraConfig({ quarantineRetentionDays: '1.5' })).toThrow('Config quarantineRetentionDays is "1.5"');
  });

  test('rejects unknown Flex memory size', () => {
    expect(() => testInfraConfig({ functionInstanceMemoryMB: '1024' })).toThrow(
      'Config functionInstanceMemoryMB is "1024", but Flex Consumption offers only 512, 2048, 4096 MB.',
    );
  });

  test('rejects non-boolean flag', () => {
    expect(() => testInfraConfig({ subscribeEventGridTrigger: 'yes' })).toThrow('Config subscribeEventGridTrigger is "yes", but it must be true or false.');
  });

  test('rejects admin object id not a GUID', () => {
    expect(() => testInfraConfig({ sqlEntraAdminObjectId: 'admins' })).toThrow('Config sqlEntraAdminObjectId is "admins", but it must be a GUID');
  });

  test('rejects missing admin login', () => {
    expect(() => testInfraConfig({ sqlEntraAdminLogin: undefined })).toThrow('Config sqlEntraAdminLogin is not set.');
  });

  test('rejects partner ranges not JSON', () => {
    expect(() => testInfraConfig({ partnerIpRanges: '203.0.113.0/24' })).toThrow(
      'Config partnerIpRanges is "203.0.113.0/24", but it must be a JSON array of strings such as ["203.0.113.0/24"].',
    );
  });

  test('rejects partner range without prefix', () => {
    expect(() => testInfraConfig({ partnerIpRanges: '["203.0.113.7"]' })).toThrow(
      'Config partnerIpRanges contains "203.0.113.7", which is not an IPv4 range in CIDR notation.',
    );
  });

  test('rejects partner range octet over 255', () => {
    expect(() => testInfraConfig({ partnerIpRanges: '["203.0.113.256/32"]' })).toThrow(InfraConfigError);
  });

  test('rejects secretRef with a dot', () => {
    expect(() => testInfraConfig({ secretRefs: '["orders.secret"]' })).toThrow('Config secretRefs contains "orders.secret"');
  });
});
