import type { ConnectorConfig, ConnectorsFile } from '../config/types';
import { listAuthSchemes } from './authConfig';
import { webhookIdHeader } from './verifyStandardWebhook';

/**
 * Returns `connector` with the inbound defaults that depend on other settings. A connector
 * without `inbound.trustedProxies` gets the file's top-level `trustedProxies`. A connector
 * with a `standard-webhooks` scheme and no `dedupKey` takes its dedup key from
 * `webhook-id`, so a webhook sent again is acknowledged and not processed twice.
 */
export function applyInboundDefaults(connector: ConnectorConfig, connectorsFile: Pick<ConnectorsFile, 'trustedProxies'>): ConnectorConfig {
  const trustedProxies = connector.inbound.trustedProxies ?? connectorsFile.trustedProxies;
  const usesStandardWebhooks = listAuthSchemes(connector.inbound.auth).some((scheme) => scheme.type === 'standard-webhooks');
  const dedupKey = connector.dedupKey ?? (usesStandardWebhooks ? { header: webhookIdHeader } : undefined);

  return {
    ...connector,
    inbound: trustedProxies === undefined ? connector.inbound : { ...connector.inbound, trustedProxies },
    ...(dedupKey === undefined ? {} : { dedupKey }),
  };
}
