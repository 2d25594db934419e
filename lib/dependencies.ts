import pino from 'pino';
import { listCredentialSchemes } from './auth/authConfig';
import { readSchemeSecrets } from './auth/schemeSecrets';
import { loadConnectors } from './config/loadConnectors';
import { createConnectorLogger } from './logger';
import { createEventPublisher, eventGridSettingNames } from './events/createEventPublisher';
import type { EventPublisher } from './events/lifecycleEvent';
import type { Connectors } from './config/types';
import { listDestinationSecretRefs } from './delivery/destinationSecrets';
import { OutboundClient } from './delivery/outboundClient';
import { lookupAllAddresses, type LookupAddresses } from './network/addressGuard';
import { createPayloadStore } from './payloadStore/createPayloadStore';
import { listSecretValues, SecretScrubber } from './redaction/secretScrubber';
import type { PayloadStore } from './payloadStore/PayloadStore';
import { QuarantineStore } from './quarantine/quarantineStore';
import { readSecret, readSettings, type Settings } from './settings';
import { openTrackingStore, type TrackingStore } from './tracking/trackingStore';
import { createTransformRunner } from './transform/dataFactory/createTransformRunner';
import { checkDataFactorySettings, dataFactorySettingNames, readDataFactorySettings } from './transform/dataFactory/dataFactorySettings';
import type { TransformRunner } from './transform/dataFactory/TransformRunner';

/**
 * Everything that triggers and activities use from outside their own code. Function
 * code gets it from `getDependencies()`, and tests pass their own.
 */
export interface Dependencies {
  settings: Settings;
  connectors: Connectors;
  payloadStore: PayloadStore;
  trackingStore: TrackingStore;
  /** Shares the tracking store's database connection. */
  quarantineStore: QuarantineStore;
  clock: () => Date;
  /** Connection pools, OAuth tokens and limits of the destinations, shared by delivery attempts. */
  outbound: OutboundClient;
  lookupAddresses: LookupAddresses;
  /** Returns the value of the setting a connector's `secretRef` names, or undefined when it is not set. */
  readSecret: (secretRef: string) => string | undefined;
  logger: pino.Logger;
  /** Publishes message lifecycle events. */
  eventPublisher: EventPublisher;
  /** Runs `adf` transforms on Data Factory. Absent while the Data Factory settings are not set. */
  transformRunner?: TransformRunner;
}

let configuration: { settings: Settings; connectors: Connectors } | undefined;
let logger: pino.Logger | undefined;
const secretScrubber = new SecretScrubber();

function connectorLogger(): pino.Logger {
  logger ??= createConnectorLogger(secretScrubber);
  return logger;
}
let dependencies: Dependencies | undefined;

/** Replaces every configured secret value in `text` with `[redacted]`. */
export function scrubSecretText(text: string): string {
  return secretScrubber.scrub(text);
}

/**
 * Reads the settings and validates the connectors file once. The app calls it when it
 * loads, so an invalid file, or an `adf` connector without the Data Factory settings, stops
 * start-up with a ConfigurationError.
 */
export function loadConfiguration(): { settings: Settings; connectors: Connectors } {
  if (configuration === undefined) {
    const settings = readSettings();
    const connectors = loadConnectors(settings.connectorsFile);
    checkDataFactorySettings(connectors, (name) => readSecret(name));
    configuration = { settings, connectors };
    const otherSecrets = [readSecret(eventGridSettingNames.key), readSecret(dataFactorySettingNames.testToken)].filter((secret) => secret !== undefined);
    secretScrubber.setSecrets([...listSecretValues(configuration.connectors, (secretRef) => readSecret(secretRef)), ...otherSecrets]);
    logConfiguration(configuration.settings, configuration.connectors);
  }
  return configuration;
}

/**
 * Logs which connectors file is in use, and warns about each secret setting of a connector that
 * is not set or not valid. A connector rejects every request with 500 while one of its schemes
 * has no usable secret, and a destination fails its attempts as retryable while a setting it
 * names is not set.
 */
function logConfiguration(settings: Settings, connectors: Connectors): void {
  const log = connectorLogger();
  log.info({ connectorsFile: settings.connectorsFile, connectorIds: connectors.list.map((connector) => connector.id) }, 'connectors loaded');
  for (const connector of connectors.list) {
    for (const scheme of listCredentialSchemes(connector.inbound.auth)) {
      const secrets = readSchemeSecrets(scheme, (secretRef) => readSecret(secretRef));
      for (const secretRef of secrets.missing) {
        log.warn(
          { connectorId: connector.id, secretRef, usableSecrets: secrets.keys.length },
          'connector secret setting is not set: set it in local.settings.json Values or the environment, or the connector rejects every request with 500 when none of its secrets is set',
        );
      }
      for (const { secretRef, problem } of secrets.invalid) {
        log.warn({ connectorId: connector.id, secretRef, problem, usableSecrets: secrets.keys.length }, 'connector secret setting is invalid');
      }
    }
    for (const destination of connector.destinations) {
      for (const { secretRef, field } of listDestinationSecretRefs(destination)) {
        if (readSecret(secretRef) === undefined) {
          log.warn(
            { connectorId: connector.id, destinationId: destination.id, secretRef, field },
            'destination secret setting is not set: set it in local.settings.json Values or the environment, or every attempt to the destination fails',
          );
        }
      }
    }
  }
}

/**
 * Returns the dependencies, building them from the settings on first use. The tracking
 * database and the payload store are opened here rather than when the app loads, so a
 * function that needs neither does not open them.
 */
export function getDependencies(): Dependencies {
  if (dependencies === undefined) {
    const { settings, connectors } = loadConfiguration();
    const trackingStore = openTrackingStore(settings.dataDir);
    trackingStore.scrubAuditText = (text) => secretScrubber.scrub(text);
    dependencies = {
      settings,
      connectors,
      payloadStore: createPayloadStore(settings.dataDir),
      trackingStore,
      quarantineStore: new QuarantineStore(trackingStore.db),
      clock: () => new Date(),
      outbound: new OutboundClient({ onAccessToken: (accessToken) => secretScrubber.addSecrets([accessToken]) }),
      lookupAddresses: lookupAllAddresses,
      readSecret: (secretRef) => readSecret(secretRef),
      logger: connectorLogger(),
      eventPublisher: createEventPublisher((name) => readSecret(name), connectorLogger(), createLoggingEventPublisher(connectorLogger())),
    };
    const dataFactorySettings = readDataFactorySettings((name) => readSecret(name));
    if (dataFactorySettings !== undefined) {
      dependencies.transformRunner = createTransformRunner(dataFactorySettings);
    }
  }
  return dependencies;
}

/** Replaces the dependencies that `getDependencies()` returns. Pass undefined to build them from settings again. */
export function setDependencies(replacement: Dependencies | undefined): void {
  dependencies = replacement;
  if (replacement === undefined) {
    configuration = undefined;
  }
}

/** Writes each lifecycle event to the connector log, for hosts without an event topic. */
function createLoggingEventPublisher(log: pino.Logger): EventPublisher {
  return {
    publish: async (event) => {
      log.info({ eventType: event.type, messageId: event.messageId, connectorId: event.connectorId, ...event.data }, 'lifecycle event');
    },
  };
}
