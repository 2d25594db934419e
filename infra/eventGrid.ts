import * as pulumi from '@pulumi/pulumi';
import * as eventgrid from '@pulumi/azure-native/eventgrid';
import { lifecycleEventFunctionName } from '../lib/functionNames';
import { sendDiagnosticsToWorkspace } from './diagnostics';

/**
 * Name of the app's Event Grid trigger function that receives lifecycle events. The subscription
 * is created only when config subscribeEventGridTrigger is true, because Event Grid checks the
 * function when it creates the subscription, so the app must be published first.
 */
export const eventGridTriggerFunctionName = lifecycleEventFunctionName;

/** Delivery attempts and event lifetime before Event Grid dead-letters an event. */
export const eventGridMaxDeliveryAttempts = 30;
export const eventGridEventTimeToLiveInMinutes = 1440;

export interface EventGridTopicInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  topicName: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
}

export interface EventGridSubscriptionInputs {
  topicId: pulumi.Input<string>;
  functionAppId: pulumi.Input<string>;
  deadLetterStorageAccountId: pulumi.Input<string>;
  deadLetterContainerName: string;
}

export interface EventGridTopic {
  topic: eventgrid.Topic;
  principalId: pulumi.Output<string>;
}

/**
 * Declares the custom topic for lifecycle events. It accepts CloudEvents 1.0 over TLS 1.2 or
 * later, and only from Entra identities, because local (key and SAS) authentication is off.
 * Its system-assigned identity writes the dead letters.
 */
export function createEventGridTopic(inputs: EventGridTopicInputs): EventGridTopic {
  const topic = new eventgrid.Topic('event-grid-topic', {
    topicName: inputs.topicName,
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    inputSchema: eventgrid.InputSchema.CloudEventSchemaV1_0,
    disableLocalAuth: true,
    minimumTlsVersionAllowed: eventgrid.TlsVersion.TlsVersion_1_2,
    publicNetworkAccess: eventgrid.PublicNetworkAccess.Enabled,
    identity: { type: eventgrid.IdentityType.SystemAssigned },
  });
  sendDiagnosticsToWorkspace('event-grid-topic', topic.id, inputs.workspaceId, 'logsAndMetrics');

  const principalId = topic.identity.apply((identity) => {
    if (identity?.principalId === undefined) {
      throw new Error('The Event Grid topic has no system-assigned identity principal id after creation. Check that identity type SystemAssigned was applied.');
    }
    return identity.principalId;
  });
  return { topic, principalId };
}

/**
 * Declares the subscription that delivers the topic's events to the app's Event Grid trigger
 * function. Events that fail every attempt go to the dead-letter container, written with the
 * topic's identity because the storage account accepts no keys.
 */
export function createEventGridTriggerSubscription(inputs: EventGridSubscriptionInputs): eventgrid.EventSubscription {
  return new eventgrid.EventSubscription('event-grid-trigger-subscription', {
    eventSubscriptionName: 'connector-function',
    scope: inputs.topicId,
    eventDeliverySchema: eventgrid.EventDeliverySchema.CloudEventSchemaV1_0,
    destination: {
      endpointType: 'AzureFunction',
      resourceId: pulumi.interpolate`${inputs.functionAppId}/functions/${eventGridTriggerFunctionName}`,
      maxEventsPerBatch: 1,
    },
    retryPolicy: {
      maxDeliveryAttempts: eventGridMaxDeliveryAttempts,
      eventTimeToLiveInMinutes: eventGridEventTimeToLiveInMinutes,
    },
    deadLetterWithResourceIdentity: {
      identity: { type: eventgrid.EventSubscriptionIdentityType.SystemAssigned },
      deadLetterDestination: {
        endpointType: 'StorageBlob',
        resourceId: inputs.deadLetterStorageAccountId,
        blobContainerName: inputs.deadLetterContainerName,
      },
    },
  });
}
