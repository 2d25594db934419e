import { beforeAll, describe, expect, test } from 'vitest';
import { wafCustomRulesOf } from '../../infra/frontDoor';
import { declareTestInfrastructure } from './declareTestInfrastructure';
import { resourceNamed, type RecordedResource } from './pulumiMocks';

let recorded: RecordedResource[];

beforeAll(async () => {
  ({ recorded } = await declareTestInfrastructure());
});

const idOf = (logicalName: string) => resourceNamed(recorded, logicalName).id;
const waf = () => resourceNamed(recorded, 'waf-policy').inputs;
const managedRuleSet = (ruleSetType: string) => waf().managedRules.managedRuleSets.find((ruleSet: any) => ruleSet.ruleSetType === ruleSetType);
const customRule = (name: string) => waf().customRules.rules.find((rule: any) => rule.name === name);

describe('front door', () => {
  test('profile is Premium', () => {
    expect(resourceNamed(recorded, 'front-door').inputs.sku).toEqual({ name: 'Premium_AzureFrontDoor' });
  });

  test('origin is the function app host', () => {
    expect(resourceNamed(recorded, 'function-app-origin').inputs.hostName).toBe('conn-func-x7k2qp.azurewebsites.net');
  });

  test('origin checks the certificate name', () => {
    expect(resourceNamed(recorded, 'function-app-origin').inputs.enforceCertificateNameCheck).toBe(true);
  });

  test('health probe requests the health path', () => {
    expect(resourceNamed(recorded, 'function-app-origins').inputs.healthProbeSettings.probePath).toBe('/api/health');
  });

  test('health probe uses HTTPS', () => {
    expect(resourceNamed(recorded, 'function-app-origins').inputs.healthProbeSettings.probeProtocol).toBe('Https');
  });

  test('route uses the origin group', () => {
    expect(resourceNamed(recorded, 'front-door-route').inputs.originGroup).toEqual({ id: idOf('function-app-origins') });
  });

  test('route accepts HTTPS only', () => {
    expect(resourceNamed(recorded, 'front-door-route').inputs.supportedProtocols).toEqual(['Https']);
  });

  test('route forwards HTTPS only', () => {
    expect(resourceNamed(recorded, 'front-door-route').inputs.forwardingProtocol).toBe('HttpsOnly');
  });

  test('security policy binds WAF policy', () => {
    expect(resourceNamed(recorded, 'front-door-waf').inputs.parameters.wafPolicy).toEqual({ id: idOf('waf-policy') });
  });

  test('security policy covers the endpoint', () => {
    const [association] = resourceNamed(recorded, 'front-door-waf').inputs.parameters.associations;
    expect(association.domains).toEqual([{ id: idOf('front-door-endpoint') }]);
  });
});

describe('WAF policy', () => {
  test('is Premium', () => {
    expect(waf().sku).toEqual({ name: 'Premium_AzureFrontDoor' });
  });

  test('runs in Prevention mode', () => {
    expect(waf().policySettings.mode).toBe('Prevention');
  });

  test('is enabled', () => {
    expect(waf().policySettings.enabledState).toBe('Enabled');
  });

  test('uses default rule set 2.1', () => {
    expect(managedRuleSet('Microsoft_DefaultRuleSet')?.ruleSetVersion).toBe('2.1');
  });

  test('default rule set blocks', () => {
    expect(managedRuleSet('Microsoft_DefaultRuleSet')?.ruleSetAction).toBe('Block');
  });

  test('uses bot manager rule set', () => {
    expect(managedRuleSet('Microsoft_BotManagerRuleSet')).toBeDefined();
  });

  test('rate-limits each client', () => {
    expect(customRule('RateLimitPerClient')).toMatchObject({ ruleType: 'RateLimitRule', action: 'Block', rateLimitDurationInMinutes: 1, rateLimitThreshold: 600 });
  });

  test('allows configured partner ranges', () => {
    const addressCondition = customRule('AllowPartnerIngest')?.matchConditions.find((condition: any) => condition.matchVariable === 'RemoteAddr');
    expect(addressCondition?.matchValue).toEqual(['203.0.113.0/24', '198.51.100.7/32']);
  });

  test('partner rule comes before rate limit', () => {
    expect(customRule('AllowPartnerIngest').priority).toBeLessThan(customRule('RateLimitPerClient').priority);
  });
});

describe('wafCustomRulesOf', () => {
  test('without partners has only rate limit', () => {
    expect(wafCustomRulesOf([], 100).map((rule) => rule.name)).toEqual(['RateLimitPerClient']);
  });

  test('partner rule is limited to ingest path', () => {
    const [partnerRule] = wafCustomRulesOf(['203.0.113.0/24'], 100);
    const pathCondition = (partnerRule.matchConditions as any[]).find((condition) => condition.matchVariable === 'RequestUri');
    expect(pathCondition.matchValue).toEqual(['/api/connectors/']);
  });
});
