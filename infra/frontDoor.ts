import * as pulumi from '@pulumi/pulumi';
import * as cdn from '@pulumi/azure-native/cdn';
import * as frontdoor from '@pulumi/azure-native/frontdoor';
import type * as inputTypes from '@pulumi/azure-native/types/input';
import { sendDiagnosticsToWorkspace } from './diagnostics';

/**
 * Path of the app's anonymous `health` function (triggers/health.ts) with routePrefix "api" from
 * host.json. It responds 503 when the tracking store or the payload store fails its check.
 */
export const healthProbePath = '/api/health';
/** Path of the ingest function behind Front Door, as in triggers/ingest.ts. */
export const ingestPathPattern = '/api/connectors/{connectorId}/messages';

export const wafRuleSets = {
  default: { ruleSetType: 'Microsoft_DefaultRuleSet', ruleSetVersion: '2.1' },
  botManager: { ruleSetType: 'Microsoft_BotManagerRuleSet', ruleSetVersion: '1.1' },
} as const;

export interface FrontDoorProfileInputs {
  resourceGroupName: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
}

export interface FrontDoorRoutingInputs {
  resourceGroupName: pulumi.Input<string>;
  profile: cdn.Profile;
  endpointName: pulumi.Input<string>;
  /** WAF policy name: letters and digits only, starting with a letter. */
  wafPolicyName: pulumi.Input<string>;
  originHostName: pulumi.Input<string>;
  partnerIpRanges: string[];
  rateLimitPerMinute: number;
}

export interface FrontDoorRouting {
  endpoint: cdn.AFDEndpoint;
  wafPolicy: frontdoor.Policy;
  originGroup: cdn.AFDOriginGroup;
  origin: cdn.AFDOrigin;
  route: cdn.Route;
  securityPolicy: cdn.SecurityPolicy;
}

/**
 * Declares the Front Door Premium profile. It comes before the Function App, which admits
 * only requests that carry the profile's `frontDoorId`. Premium is needed for the managed
 * WAF rule sets.
 */
export function createFrontDoorProfile(inputs: FrontDoorProfileInputs): cdn.Profile {
  const profile = new cdn.Profile('front-door', {
    resourceGroupName: inputs.resourceGroupName,
    location: 'global',
    sku: { name: cdn.SkuName.Premium_AzureFrontDoor },
    originResponseTimeoutSeconds: 60,
  });
  sendDiagnosticsToWorkspace('front-door', profile.id, inputs.workspaceId, 'logsAndMetrics');
  return profile;
}

/**
 * Declares the WAF policy in Prevention mode, the endpoint, and the origin group that probes
 * the app's health endpoint. Also declares the origin at the app's host name, an HTTPS-only
 * route for every path, and the security policy that applies the WAF to the endpoint.
 */
export function createFrontDoorRouting(inputs: FrontDoorRoutingInputs): FrontDoorRouting {
  const { profile, resourceGroupName } = inputs;

  const wafPolicy = new frontdoor.Policy('waf-policy', {
    policyName: inputs.wafPolicyName,
    resourceGroupName,
    location: 'global',
    sku: { name: frontdoor.SkuName.Premium_AzureFrontDoor },
    policySettings: {
      enabledState: frontdoor.PolicyEnabledState.Enabled,
      mode: frontdoor.PolicyMode.Prevention,
      requestBodyCheck: frontdoor.PolicyRequestBodyCheck.Enabled,
    },
    managedRules: {
      managedRuleSets: [
        { ...wafRuleSets.default, ruleSetAction: frontdoor.ManagedRuleSetActionType.Block },
        { ...wafRuleSets.botManager },
      ],
    },
    customRules: { rules: wafCustomRulesOf(inputs.partnerIpRanges, inputs.rateLimitPerMinute) },
  });

  const endpoint = new cdn.AFDEndpoint('front-door-endpoint', {
    endpointName: inputs.endpointName,
    profileName: profile.name,
    resourceGroupName,
    location: 'global',
    enabledState: cdn.EnabledState.Enabled,
  });

  const originGroup = new cdn.AFDOriginGroup('function-app-origins', {
    originGroupName: 'function-app',
    profileName: profile.name,
    resourceGroupName,
    healthProbeSettings: {
      probePath: healthProbePath,
      probeProtocol: cdn.ProbeProtocol.Https,
      probeRequestType: cdn.HealthProbeRequestType.GET,
      probeIntervalInSeconds: 60,
    },
    loadBalancingSettings: { sampleSize: 4, successfulSamplesRequired: 3, additionalLatencyInMilliseconds: 50 },
    sessionAffinityState: cdn.EnabledState.Disabled,
  });

  const origin = new cdn.AFDOrigin('function-app-origin', {
    originName: 'function-app',
    originGroupName: originGroup.name,
    profileName: profile.name,
    resourceGroupName,
    hostName: inputs.originHostName,
    originHostHeader: inputs.originHostName,
    httpsPort: 443,
    httpPort: 80,
    priority: 1,
    weight: 1000,
    enforceCertificateNameCheck: true,
    enabledState: cdn.EnabledState.Enabled,
  });

  // HTTPS only and no redirect, because a partner's POST that follows a redirect may be
  // sent again without its body.
  const route = new cdn.Route(
    'front-door-route',
    {
      routeName: 'function-app',
      endpointName: endpoint.name,
      profileName: profile.name,
      resourceGroupName,
      originGroup: { id: originGroup.id },
      supportedProtocols: [cdn.AFDEndpointProtocols.Https],
      httpsRedirect: cdn.HttpsRedirect.Disabled,
      forwardingProtocol: cdn.ForwardingProtocol.HttpsOnly,
      linkToDefaultDomain: cdn.LinkToDefaultDomain.Enabled,
      patternsToMatch: ['/*'],
      enabledState: cdn.EnabledState.Enabled,
    },
    { dependsOn: [origin] },
  );

  const securityPolicy = new cdn.SecurityPolicy('front-door-waf', {
    securityPolicyName: 'waf',
    profileName: profile.name,
    resourceGroupName,
    parameters: {
      type: 'WebApplicationFirewall',
      wafPolicy: { id: wafPolicy.id },
      associations: [{ domains: [{ id: endpoint.id }], patternsToMatch: ['/*'] }],
    },
  });

  return { endpoint, wafPolicy, originGroup, origin, route, securityPolicy };
}

/**
 * Returns the WAF custom rules. With partner ranges configured, a first rule allows requests
 * from them to the ingest path. An Allow ends the evaluation, so these requests skip the rate
 * limit and the managed rule sets, whose SQL injection and script rules often match ordinary
 * JSON payloads. Every other client address is limited to `rateLimitPerMinute` requests a minute.
 */
export function wafCustomRulesOf(partnerIpRanges: string[], rateLimitPerMinute: number): inputTypes.frontdoor.CustomRuleArgs[] {
  const rules: inputTypes.frontdoor.CustomRuleArgs[] = [];
  if (partnerIpRanges.length > 0) {
    rules.push({
      name: 'AllowPartnerIngest',
      priority: 10,
      enabledState: frontdoor.CustomRuleEnabledState.Enabled,
      ruleType: frontdoor.RuleType.MatchRule,
      action: frontdoor.ActionType.Allow,
      matchConditions: [
        { matchVariable: frontdoor.MatchVariable.RemoteAddr, operator: frontdoor.Operator.IPMatch, matchValue: partnerIpRanges },
        // Contains rather than BeginsWith, because the WAF documentation does not say whether
        // RequestUri starts with the path or with the scheme and host.
        {
          matchVariable: frontdoor.MatchVariable.RequestUri,
          operator: frontdoor.Operator.Contains,
          matchValue: ['/api/connectors/'],
          transforms: [frontdoor.TransformType.Lowercase],
        },
      ],
    });
  }
  rules.push({
    name: 'RateLimitPerClient',
    priority: 100,
    enabledState: frontdoor.CustomRuleEnabledState.Enabled,
    ruleType: frontdoor.RuleType.RateLimitRule,
    action: frontdoor.ActionType.Block,
    rateLimitDurationInMinutes: 1,
    rateLimitThreshold: rateLimitPerMinute,
    groupBy: [{ variableName: frontdoor.VariableName.SocketAddr }],
    matchConditions: [{ matchVariable: frontdoor.MatchVariable.RequestUri, operator: frontdoor.Operator.Any, matchValue: [] }],
  });
  return rules;
}
