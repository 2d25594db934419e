import * as pulumi from '@pulumi/pulumi';
import * as datafactory from '@pulumi/azure-native/datafactory';
import { sendDiagnosticsToWorkspace } from './diagnostics';
import { payloadContainerNames } from './storage';

export const transformPipelineName = 'transform-payload';
/** Pipeline parameters: blob names inside the raw and the transformed container. */
export const transformPipelineParameters = {
  inputBlobName: 'inputBlobName',
  outputBlobName: 'outputBlobName',
} as const;

const payloadLinkedServiceName = 'payload-storage';
const rawDatasetName = 'raw-payload';
const transformedDatasetName = 'transformed-payload';
const blobNameParameter = 'blobName';

export interface DataFactoryInputs {
  resourceGroupName: pulumi.Input<string>;
  location: string;
  factoryName: pulumi.Input<string>;
  payloadBlobEndpoint: pulumi.Input<string>;
  workspaceId: pulumi.Input<string>;
}

export interface DataFactory {
  factory: datafactory.Factory;
  pipeline: datafactory.Pipeline;
  principalId: pulumi.Output<string>;
}

/**
 * Declares the factory with a system-assigned identity, its linked service to the payload
 * account (signed in with that identity, no keys), and the transform pipeline. The pipeline
 * copies one blob from the raw container to the transformed container unchanged: it is the
 * place where a heavier transformation replaces the copy.
 */
export function createDataFactory(inputs: DataFactoryInputs): DataFactory {
  const factory = new datafactory.Factory('data-factory', {
    factoryName: inputs.factoryName,
    resourceGroupName: inputs.resourceGroupName,
    location: inputs.location,
    identity: { type: datafactory.FactoryIdentityType.SystemAssigned },
    publicNetworkAccess: datafactory.PublicNetworkAccess.Enabled,
  });
  sendDiagnosticsToWorkspace('data-factory', factory.id, inputs.workspaceId, 'logsAndMetrics');

  const linkedService = new datafactory.LinkedService('payload-linked-service', {
    factoryName: factory.name,
    resourceGroupName: inputs.resourceGroupName,
    linkedServiceName: payloadLinkedServiceName,
    properties: {
      type: 'AzureBlobStorage',
      serviceEndpoint: inputs.payloadBlobEndpoint,
      accountKind: 'StorageV2',
      authenticationType: datafactory.AzureStorageAuthenticationType.Msi,
    },
  });

  const createBlobDataset = (logicalName: string, datasetName: string, containerName: string) =>
    new datafactory.Dataset(
      logicalName,
      {
        factoryName: factory.name,
        resourceGroupName: inputs.resourceGroupName,
        datasetName,
        properties: {
          type: 'Binary',
          linkedServiceName: { referenceName: payloadLinkedServiceName, type: 'LinkedServiceReference' },
          parameters: { [blobNameParameter]: { type: datafactory.ParameterType.String } },
          location: {
            type: 'AzureBlobStorageLocation',
            container: containerName,
            fileName: { value: `@dataset().${blobNameParameter}`, type: 'Expression' },
          },
        },
      },
      { dependsOn: [linkedService] },
    );
  const rawDataset = createBlobDataset('raw-dataset', rawDatasetName, payloadContainerNames.raw);
  const transformedDataset = createBlobDataset('transformed-dataset', transformedDatasetName, payloadContainerNames.transformed);

  const pipeline = new datafactory.Pipeline(
    'transform-pipeline',
    {
      factoryName: factory.name,
      resourceGroupName: inputs.resourceGroupName,
      pipelineName: transformPipelineName,
      parameters: {
        [transformPipelineParameters.inputBlobName]: { type: datafactory.ParameterType.String },
        [transformPipelineParameters.outputBlobName]: { type: datafactory.ParameterType.String },
      },
      activities: [
        {
          name: 'CopyRawToTransformed',
          type: 'Copy',
          inputs: [
            {
              referenceName: rawDatasetName,
              type: 'DatasetReference',
              parameters: { [blobNameParameter]: `@pipeline().parameters.${transformPipelineParameters.inputBlobName}` },
            },
          ],
          outputs: [
            {
              referenceName: transformedDatasetName,
              type: 'DatasetReference',
              parameters: { [blobNameParameter]: `@pipeline().parameters.${transformPipelineParameters.outputBlobName}` },
            },
          ],
          source: { type: 'BinarySource', storeSettings: { type: 'AzureBlobStorageReadSettings' } },
          sink: { type: 'BinarySink', storeSettings: { type: 'AzureBlobStorageWriteSettings' } },
        },
      ],
    },
    { dependsOn: [rawDataset, transformedDataset] },
  );

  const principalId = factory.identity.apply((identity) => {
    if (identity?.principalId === undefined) {
      throw new Error('The Data Factory has no system-assigned identity principal id after creation. Check that identity type SystemAssigned was applied.');
    }
    return identity.principalId;
  });
  return { factory, pipeline, principalId };
}
