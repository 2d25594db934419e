import { beforeAll, describe, expect, test } from 'vitest';
import { builtInRoleIds } from '../../infra/roles';
import { declareTestInfrastructure } from './declareTestInfrastructure';
import { mockSubscriptionId, resourceNamed, resourcesOfType, type RecordedResource } from './pulumiMocks';

let recorded: RecordedResource[];

beforeAll(async () => {
  ({ recorded } = await declareTestInfrastructure());
});

const idOf = (logicalName: string) => resourceNamed(recorded, logicalName).id;
const principalOf = (logicalName: string) => `principal-of-${logicalName}`;
const roleDefinitionId = (roleId: string) => `/subscriptions/${mockSubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;

/** Built-in role ids as Azure publishes them, kept apart from infra/roles.ts so a typo there fails. */
const publishedRoleIds = {
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7',
  dataFactoryContributor: '673868aa-7521-48a0-acc6-0f60742d39f5',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
};

describe('role assignments', () => {
  const assignments = () => resourcesOfType(recorded, 'azure-native:authorization:RoleAssignment');
  const asTriples = () =>
    assignments()
      .map((assignment) => `${assignment.inputs.principalId} | ${assignment.inputs.roleDefinitionId} | ${assignment.inputs.scope}`)
      .sort();

  test('are exactly the granted set', () => {
    const app = principalOf('function-app');
    const expected = [
      [app, publishedRoleIds.storageBlobDataContributor, idOf('payload-storage')],
      [app, publishedRoleIds.storageBlobDataOwner, idOf('runtime-storage')],
      [app, publishedRoleIds.storageQueueDataContributor, idOf('runtime-storage')],
      [app, publishedRoleIds.storageTableDataContributor, idOf('runtime-storage')],
      [app, publishedRoleIds.keyVaultSecretsUser, idOf('key-vault')],
      [app, publishedRoleIds.eventGridDataSender, idOf('event-grid-topic')],
      [app, publishedRoleIds.dataFactoryContributor, idOf('data-factory')],
      [app, publishedRoleIds.monitoringMetricsPublisher, idOf('audit-rule')],
      [principalOf('data-factory'), publishedRoleIds.storageBlobDataContributor, idOf('payload-storage')],
      [principalOf('event-grid-topic'), publishedRoleIds.storageBlobDataContributor, idOf('payload-dead-letters')],
    ].map(([principal, roleId, scope]) => `${principal} | ${roleDefinitionId(roleId)} | ${scope}`);
    expect(asTriples()).toEqual(expected.sort());
  });

  test('role ids match published ids', () => {
    expect(builtInRoleIds).toEqual(publishedRoleIds);
  });

  test('none is scoped to a subscription', () => {
    const subscriptionScoped = assignments().filter((assignment) => /^\/subscriptions\/[^/]+\/?$/i.test(assignment.inputs.scope));
    expect(subscriptionScoped).toEqual([]);
  });

  test('none is scoped to a resource group', () => {
    const groupScoped = assignments().filter((assignment) => /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/?$/i.test(assignment.inputs.scope));
    expect(groupScoped).toEqual([]);
  });

  test('all scopes are resource ids', () => {
    const notResources = assignments().filter((assignment) => !/\/providers\/[^/]+\/[^/]+\/[^/]+/.test(assignment.inputs.scope));
    expect(notResources).toEqual([]);
  });

  test('all are for service principals', () => {
    const types = new Set(assignments().map((assignment) => assignment.inputs.principalType));
    expect([...types]).toEqual(['ServicePrincipal']);
  });
});
