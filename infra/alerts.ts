import * as pulumi from '@pulumi/pulumi';
import * as monitor from '@pulumi/azure-native/monitor';
import type * as inputTypes from '@pulumi/azure-native/types/input';
import { deadLetterAlertMessage } from '../lib/events/handleLifecycleEvent';
import { ingestMessageFunctionName } from '../lib/functionNames';

/** Share of ingest requests in 5 minutes that get a 5xx response, in percent, above which an alert fires. */
export const ingestServerErrorRateThresholdInPercent = 5;
/** Requests blocked by the WAF in 5 minutes that raise an alert. */
export const wafBlockedRequestThreshold = 100;

export interface AlertInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  alertEmail: string;
  workspaceId: pulumi.Input<string>;
  frontDoorProfileId: pulumi.Input<string>;
}

export interface Alerts {
  actionGroup: monitor.ActionGroup;
  deadLetterAlert: monitor.ScheduledQueryRule;
  failedOrchestrationAlert: monitor.ScheduledQueryRule;
  ingestServerErrorAlert: monitor.ScheduledQueryRule;
  wafBlockAlert: monitor.MetricAlert;
}

/**
 * KQL over the app's Application Insights tables in the workspace. The dead-letter query
 * matches the alert line of the onLifecycleEvent trigger, and also the warning that the
 * recordDelivery activity logs, so it fires while the Event Grid subscription is off. The
 * failed-orchestration query matches the Durable Functions host's "'<name> (Orchestrator)' failed" trace.
 */
export const alertQueries = {
  deadLetters: `AppTraces | where Message has "${deadLetterAlertMessage}" or Message has "delivery dead-lettered"`,
  failedOrchestrations: `AppTraces | where Message has "(Orchestrator)' failed"`,
  ingestServerErrorRate: [
    `AppRequests | where Name == "${ingestMessageFunctionName}"`,
    '| summarize requests = count(), serverErrors = countif(toint(ResultCode) >= 500)',
    '| where requests >= 10',
    '| extend serverErrorRateInPercent = 100.0 * serverErrors / requests',
  ].join('\n'),
} as const;

/**
 * Declares the action group that e-mails `alertEmail`, and the alerts that use it: dead-lettered
 * deliveries, failed orchestrations, the ingest 5xx rate and requests blocked by the WAF.
 */
export function createAlerts(inputs: AlertInputs): Alerts {
  const actionGroup = new monitor.ActionGroup('alert-email', {
    resourceGroupName: inputs.resourceGroupName,
    location: 'global',
    groupShortName: 'connector',
    enabled: true,
    emailReceivers: [{ name: 'operators', emailAddress: inputs.alertEmail, useCommonAlertSchema: true }],
  });

  const createLogAlert = (logicalName: string, description: string, severity: number, criterion: inputTypes.monitor.ConditionArgs) =>
    new monitor.ScheduledQueryRule(logicalName, {
      resourceGroupName: inputs.resourceGroupName,
      location: inputs.location,
      kind: monitor.Kind.LogAlert,
      description,
      severity,
      enabled: true,
      scopes: [inputs.workspaceId],
      evaluationFrequency: 'PT5M',
      windowSize: 'PT5M',
      criteria: { allOf: [{ ...criterion, failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 } }] },
      actions: { actionGroups: [actionGroup.id] },
    });

  const deadLetterAlert = createLogAlert('dead-letter-alert', 'A delivery to a destination was dead-lettered.', 2, {
    query: alertQueries.deadLetters,
    timeAggregation: monitor.TimeAggregation.Count,
    operator: monitor.ConditionOperator.GreaterThan,
    threshold: 0,
  });
  const failedOrchestrationAlert = createLogAlert('failed-orchestration-alert', 'An orchestration failed.', 1, {
    query: alertQueries.failedOrchestrations,
    timeAggregation: monitor.TimeAggregation.Count,
    operator: monitor.ConditionOperator.GreaterThan,
    threshold: 0,
  });
  const ingestServerErrorAlert = createLogAlert(
    'ingest-server-error-alert',
    `More than ${ingestServerErrorRateThresholdInPercent}% of ingest requests got a 5xx response.`,
    1,
    {
      query: alertQueries.ingestServerErrorRate,
      timeAggregation: monitor.TimeAggregation.Maximum,
      metricMeasureColumn: 'serverErrorRateInPercent',
      operator: monitor.ConditionOperator.GreaterThan,
      threshold: ingestServerErrorRateThresholdInPercent,
    },
  );

  const wafBlockAlert = new monitor.MetricAlert('waf-block-alert', {
    resourceGroupName: inputs.resourceGroupName,
    location: 'global',
    description: `The WAF blocked more than ${wafBlockedRequestThreshold} requests in 5 minutes.`,
    severity: 2,
    enabled: true,
    scopes: [inputs.frontDoorProfileId],
    evaluationFrequency: 'PT5M',
    windowSize: 'PT5M',
    criteria: {
      odataType: 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria',
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion',
          name: 'blocked-requests',
          metricNamespace: 'Microsoft.Cdn/profiles',
          metricName: 'WebApplicationFirewallRequestCount',
          dimensions: [{ name: 'Action', operator: 'Include', values: ['Block'] }],
          operator: monitor.Operator.GreaterThan,
          threshold: wafBlockedRequestThreshold,
          timeAggregation: monitor.AggregationTypeEnum.Total,
        },
      ],
    },
    actions: [{ actionGroupId: actionGroup.id }],
  });

  return { actionGroup, deadLetterAlert, failedOrchestrationAlert, ingestServerErrorAlert, wafBlockAlert };
}
