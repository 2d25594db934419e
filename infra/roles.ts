import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';

/** Ids of the built-in Azure role definitions that this program assigns. */
export const builtInRoleIds = {
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7',
  dataFactoryContributor: '673868aa-7521-48a0-acc6-0f60742d39f5',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;

export type BuiltInRole = keyof typeof builtInRoleIds;

export interface RoleGrant {
  /** Unique within the program, used in the Pulumi resource name. */
  logicalName: string;
  principalId: pulumi.Input<string>;
  role: BuiltInRole;
  /** Resource id of the single resource the role applies to. */
  scope: pulumi.Input<string>;
}

export interface RoleInputs {
  subscriptionId: pulumi.Input<string>;
  functionAppPrincipalId: pulumi.Input<string>;
  dataFactoryPrincipalId: pulumi.Input<string>;
  eventGridTopicPrincipalId: pulumi.Input<string>;
  payloadStorageAccountId: pulumi.Input<string>;
  runtimeStorageAccountId: pulumi.Input<string>;
  keyVaultId: pulumi.Input<string>;
  eventGridTopicId: pulumi.Input<string>;
  dataFactoryId: pulumi.Input<string>;
  auditDataCollectionRuleId: pulumi.Input<string>;
  /** Container that receives the Event Grid dead letters. */
  deadLetterContainerId: pulumi.Input<string>;
}

/**
 * Lists every role that the program grants, each on one resource and never on a resource group
 * or subscription. The Function App gets the data-plane rights it uses and no management rights
 * except starting pipeline runs on the factory. Data Factory reads and writes payloads. The
 * Event Grid topic writes dead letters to their container.
 */
export function roleGrantsOf(inputs: RoleInputs): RoleGrant[] {
  const app = inputs.functionAppPrincipalId;
  return [
    { logicalName: 'app-payload-blob', principalId: app, role: 'storageBlobDataContributor', scope: inputs.payloadStorageAccountId },
    { logicalName: 'app-runtime-blob', principalId: app, role: 'storageBlobDataOwner', scope: inputs.runtimeStorageAccountId },
    { logicalName: 'app-runtime-queue', principalId: app, role: 'storageQueueDataContributor', scope: inputs.runtimeStorageAccountId },
    { logicalName: 'app-runtime-table', principalId: app, role: 'storageTableDataContributor', scope: inputs.runtimeStorageAccountId },
    { logicalName: 'app-key-vault-secrets', principalId: app, role: 'keyVaultSecretsUser', scope: inputs.keyVaultId },
    { logicalName: 'app-event-grid-send', principalId: app, role: 'eventGridDataSender', scope: inputs.eventGridTopicId },
    { logicalName: 'app-data-factory', principalId: app, role: 'dataFactoryContributor', scope: inputs.dataFactoryId },
    { logicalName: 'app-audit-ingestion', principalId: app, role: 'monitoringMetricsPublisher', scope: inputs.auditDataCollectionRuleId },
    { logicalName: 'data-factory-payload-blob', principalId: inputs.dataFactoryPrincipalId, role: 'storageBlobDataContributor', scope: inputs.payloadStorageAccountId },
    { logicalName: 'event-grid-dead-letters', principalId: inputs.eventGridTopicPrincipalId, role: 'storageBlobDataContributor', scope: inputs.deadLetterContainerId },
  ];
}

/** Returns the full id of a built-in role definition in the subscription. */
export function roleDefinitionIdOf(subscriptionId: pulumi.Input<string>, role: BuiltInRole): pulumi.Output<string> {
  return pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${builtInRoleIds[role]}`;
}

/** Declares one role assignment per grant of `roleGrantsOf`, for service principals. */
export function createRoleAssignments(inputs: RoleInputs): authorization.RoleAssignment[] {
  return roleGrantsOf(inputs).map(
    (grant) =>
      new authorization.RoleAssignment(grant.logicalName, {
        principalId: grant.principalId,
        principalType: authorization.PrincipalType.ServicePrincipal,
        roleDefinitionId: roleDefinitionIdOf(inputs.subscriptionId, grant.role),
        scope: grant.scope,
      }),
  );
}
