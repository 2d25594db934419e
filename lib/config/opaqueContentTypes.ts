import { isJsonContentType } from '../encoding/mediaType';
import type { ConfigurationIssue } from './schemaIssues';
import type { ConnectorsFile } from './types';

/**
 * Reports each non-JSON media type in `inbound.acceptedContentTypes` of a connector that has a
 * transform or an entity. Both read the payload as JSON, so every opaque payload of that
 * connector would fail in processing after the partner got 202.
 */
export function findOpaqueTypesWithJsonSteps(connectorsFile: ConnectorsFile): ConfigurationIssue[] {
  const issues: ConfigurationIssue[] = [];

  connectorsFile.connectors.forEach((connector, connectorIndex) => {
    const jsonSteps = [connector.transform === undefined ? undefined : 'transform', connector.entity === undefined ? undefined : 'entity'].filter(
      (step): step is string => step !== undefined,
    );
    if (jsonSteps.length === 0) {
      return;
    }

    connector.inbound.acceptedContentTypes.forEach((contentType, typeIndex) => {
      if (isJsonContentType(contentType)) {
        return;
      }
      issues.push({
        path: `/connectors/${connectorIndex}/inbound/acceptedContentTypes/${typeIndex}`,
        problem: `"${contentType}" is not JSON, but the connector's ${jsonSteps.join(' and ')} read the payload as JSON`,
        fix: `remove "${contentType}", or move it to a connector without transform and entity`,
      });
    });
  });
  return issues;
}
