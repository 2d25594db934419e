import * as pulumi from '@pulumi/pulumi';
import * as monitor from '@pulumi/azure-native/monitor';

/**
 * Data that a resource type can send. `logsAndMetrics` is for types with log categories, sent
 * with the `allLogs` category group, and platform metrics. `metricsOnly` is for types with only metrics.
 */
export type DiagnosticKind = 'logsAndMetrics' | 'metricsOnly';

/** Name of every diagnostic setting that this program declares. */
export const diagnosticSettingName = 'to-log-analytics';

/** Declares a diagnostic setting that sends the logs and metrics of `resourceUri` to the Log Analytics workspace. */
export function sendDiagnosticsToWorkspace(
  logicalName: string,
  resourceUri: pulumi.Input<string>,
  workspaceId: pulumi.Input<string>,
  kind: DiagnosticKind,
): monitor.DiagnosticSetting {
  return new monitor.DiagnosticSetting(`${logicalName}-diagnostics`, {
    name: diagnosticSettingName,
    resourceUri,
    workspaceId,
    logs: kind === 'logsAndMetrics' ? [{ categoryGroup: 'allLogs', enabled: true }] : [],
    metrics: [{ category: 'AllMetrics', enabled: true }],
  });
}
