import * as pulumi from '@pulumi/pulumi';
import * as applicationinsights from '@pulumi/azure-native/applicationinsights';
import * as monitor from '@pulumi/azure-native/monitor';
import * as operationalinsights from '@pulumi/azure-native/operationalinsights';
import { sendDiagnosticsToWorkspace } from './diagnostics';

/** Custom Log Analytics table that receives the connector's audit trail. */
export const auditTableName = 'ConnectorAudit_CL';
/** Stream of the data collection rule that the app sends audit records to. */
export const auditStreamName = `Custom-${auditTableName}`;

/** Columns of the audit table, mirroring the `audit` table of the tracking store. */
export const auditTableColumns = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'MessageId', type: 'string' },
  { name: 'ConnectorId', type: 'string' },
  { name: 'Step', type: 'string' },
  { name: 'StepKey', type: 'string' },
  { name: 'Detail', type: 'dynamic' },
] as const;

export interface MonitoringInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  workspaceName: pulumi.Input<string>;
  logRetentionInDays: number;
}

export interface Monitoring {
  workspace: operationalinsights.Workspace;
  applicationInsights: applicationinsights.Component;
  auditTable: operationalinsights.Table;
  dataCollectionEndpoint: monitor.DataCollectionEndpoint;
  auditDataCollectionRule: monitor.DataCollectionRule;
}

/**
 * Declares the Log Analytics workspace, workspace-based Application Insights, and the data
 * collection endpoint and rule through which the app writes audit records to `ConnectorAudit_CL`.
 */
export function createMonitoring(inputs: MonitoringInputs): Monitoring {
  const workspace = new operationalinsights.Workspace('logs', {
    workspaceName: inputs.workspaceName,
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
    retentionInDays: inputs.logRetentionInDays,
  });
  sendDiagnosticsToWorkspace('logs', workspace.id, workspace.id, 'logsAndMetrics');

  // Workspace-based, so its telemetry already lands in the workspace and it needs no
  // diagnostic setting of its own, which would store every record twice.
  const applicationInsights = new applicationinsights.Component('app-insights', {
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    kind: 'web',
    applicationType: applicationinsights.ApplicationType.Web,
    ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
    workspaceResourceId: workspace.id,
  });

  const auditTable = new operationalinsights.Table('audit-table', {
    tableName: auditTableName,
    workspaceName: workspace.name,
    resourceGroupName: inputs.resourceGroupName,
    retentionInDays: inputs.logRetentionInDays,
    schema: { name: auditTableName, columns: auditTableColumns.map((column) => ({ ...column })) },
  });

  const dataCollectionEndpoint = new monitor.DataCollectionEndpoint('audit-endpoint', {
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    networkAcls: { publicNetworkAccess: monitor.KnownPublicNetworkAccessOptions.Enabled },
  });

  const workspaceDestinationName = 'workspace';
  const auditDataCollectionRule = new monitor.DataCollectionRule(
    'audit-rule',
    {
      resourceGroupName: inputs.resourceGroupName,
      location: inputs.location,
      dataCollectionEndpointId: dataCollectionEndpoint.id,
      streamDeclarations: {
        [auditStreamName]: { columns: auditTableColumns.map((column) => ({ ...column })) },
      },
      destinations: {
        logAnalytics: [{ name: workspaceDestinationName, workspaceResourceId: workspace.id }],
      },
      dataFlows: [
        {
          streams: [auditStreamName],
          destinations: [workspaceDestinationName],
          transformKql: 'source',
          outputStream: auditStreamName,
        },
      ],
    },
    { dependsOn: [auditTable] },
  );

  return { workspace, applicationInsights, auditTable, dataCollectionEndpoint, auditDataCollectionRule };
}
