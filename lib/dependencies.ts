import pino from 'pino';
import { createAuditSink } from './audit/createAuditSink';
import { forwardAuditEntries } from './audit/forwardAuditEntries';
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
import type { QuarantineStorePort } from './quarantine/QuarantineStorePort';
import { createSecretStore } from './secrets/createSecretStore';
import { KeyVaultSecretStore } from './secrets/keyVaultSecretStore';
import { listConnectorSecretRefs } from './secrets/listSecretRefs';
import { createScrubbedSecretsUpdater } from './secrets/scrubbedSecretsUpdater';
import type { SecretStore } from './secrets/secretStore';
import { readSetting, readSettings, type Settings } from './settings';
import { openTrackingStore } from './tracking/trackingStore';
import { createAzureCredential } from './secrets/azureCredential';
import { openSqlTrackingStores } from './tracking/sql/openSqlTrackingStores';
import { readSqlTrackingSettings } from './tracking/sql/sqlSettings';
import type { TrackingStorePort } from './tracking/TrackingStorePort';
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
  trackingStore: TrackingStorePort;
  /** Shares the tracking store's database connection. */
  quarantineStore: QuarantineStorePort;
  clock: () => Date;
  /** Connection pools, OAuth tokens and limits of the destinations, shared by delivery attempts. */
  outbound: OutboundClient;
  lookupAddresses: LookupAddresses;
  /** Returns the value of the secret a connector's `secretRef` names, or undefined when it is not set. */
  readSecret: (secretRef: string) => string | undefined;
  /**
   * The store behind `readSecret`. Handlers await its `ready()` before they read secrets, so that
   * Key Vault values are loaded and fresh. Tests that pass only `readSecret` leave it out.
   */
  secretStore?: SecretStore;
  logger: pino.Logger;
  /** Publishes message lifecycle events. */
  eventPublisher: EventPublisher;
  /** Runs `adf` transforms on Data Factory. Absent while the Data Factory settings are not set. */
  transformRunner?: TransformRunner;
}

/** Settings, connectors and secret store, read once when the app loads. */
interface Configuration {
  settings: Settings;
  connectors: Connectors;
  secretStore: SecretStore;
}

let configuration: Configuration | undefined;
let logger: pino.Logger | undefined;
const secretScrubber = new SecretScrubber();
const updateScrubbedSecrets = createScrubbedSecretsUpdater(secretScrubber);

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
 * Reads the settings, validates the connectors file and creates the secret store once. The app
 * calls it when it loads, so an invalid file or setting, or an `adf` connector without the Data
 * Factory settings, stops start-up with a ConfigurationError.
 * A Key Vault store starts its first refresh here, and its secrets are checked once it is loaded.
 */
export function loadConfiguration(): Configuration {
  if (configuration === undefined) {
    const settings = readSettings();
    const connectors = loadConnectors(settings.connectorsFile);
    checkDataFactorySettings(connectors, (name) => readSetting(name));
    readSqlTrackingSettings();
    const log = connectorLogger();
    log.info({ connectorsFile: settings.connectorsFile, connectorIds: connectors.list.map((connector) => connector.id) }, 'connectors loaded');

    let checked = false;
    const store = createSecretStore({
      secretRefs: [...listConnectorSecretRefs(connectors), eventGridSettingNames.key],
      logger: log,
      onRefresh: () => {
        scrubSecretValues(store, connectors);
        if (!checked) {
          checked = true;
          logMissingSecrets(store, connectors);
        }
      },
    });
    configuration = { settings, connectors, secretStore: store };
    if (store instanceof KeyVaultSecretStore) {
      void store.ready();
    } else {
      scrubSecretValues(store, connectors);
      logMissingSecrets(store, connectors);
    }
  }
  return configuration;
}

/** Gives the secret scrubber the value of every secret the connectors name and the Event Grid topic key. */
function scrubSecretValues(store: SecretStore, connectors: Connectors): void {
  const otherSecrets = [store.read(eventGridSettingNames.key), readSetting(dataFactorySettingNames.testToken)].filter((secret) => secret !== undefined);
  updateScrubbedSecrets([...listSecretValues(connectors, (secretRef) => store.read(secretRef)), ...otherSecrets]);
}

/**
 * Warns about each secret of a connector that is not set or not valid, naming where to set it.
 * A connector rejects every request with 500 while one of its schemes has no usable secret, and
 * a destination fails its attempts as retryable while a secret it names is not set.
 */
function logMissingSecrets(store: SecretStore, connectors: Connectors): void {
  const log = connectorLogger();
  const read = (secretRef: string): string | undefined => store.read(secretRef);
  for (const connector of connectors.list) {
    for (const scheme of listCredentialSchemes(connector.inbound.auth)) {
      const secrets = readSchemeSecrets(scheme, read);
      for (const secretRef of secrets.missing) {
        log.warn(
          { connectorId: connector.id, secretRef, secretSource: store.describeSource(secretRef), usableSecrets: secrets.keys.length },
          'connector secret is not set: set it where secretSource says, or the connector rejects every request with 500 when none of its secrets is set',
        );
      }
      for (const { secretRef, problem } of secrets.invalid) {
        log.warn({ connectorId: connector.id, secretRef, secretSource: store.describeSource(secretRef), problem, usableSecrets: secrets.keys.length }, 'connector secret is invalid');
      }
    }
    for (const destination of connector.destinations) {
      for (const { secretRef, field } of listDestinationSecretRefs(destination)) {
        if (read(secretRef) === undefined) {
          log.warn(
            { connectorId: connector.id, destinationId: destination.id, secretRef, field, secretSource: store.describeSource(secretRef) },
            'destination secret is not set: set it where secretSource says, or every attempt to the destination fails',
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
    const { settings, connectors, secretStore: store } = loadConfiguration();
    const { trackingStore, quarantineStore } = openTrackingStores(settings.dataDir);
    trackingStore.scrubAuditText = (text) => secretScrubber.scrub(text);
    const auditSink = createAuditSink(connectorLogger());
    if (auditSink !== undefined) {
      forwardAuditEntries(trackingStore, auditSink, connectorLogger());
    }
    dependencies = {
      settings,
      connectors,
      payloadStore: createPayloadStore(settings.dataDir),
      trackingStore,
      quarantineStore,
      clock: () => new Date(),
      outbound: new OutboundClient({ onAccessToken: (accessToken) => secretScrubber.addSecrets([accessToken]) }),
      lookupAddresses: lookupAllAddresses,
      readSecret: (secretRef) => store.read(secretRef),
      secretStore: store,
      logger: connectorLogger(),
      eventPublisher: createLazyEventPublisher(store, connectorLogger()),
    };
    const dataFactorySettings = readDataFactorySettings((name) => readSetting(name));
    if (dataFactorySettings !== undefined) {
      dependencies.transformRunner = createTransformRunner(dataFactorySettings);
    }
  }
  return dependencies;
}

/**
 * Opens the tracking and quarantine stores: Azure SQL when `TRACKING_SQL_SERVER` and
 * `TRACKING_SQL_DATABASE` are set, and otherwise SQLite in the data folder. A SQL login is used
 * when its settings are set, and otherwise the app's managed identity or developer sign-in.
 */
function openTrackingStores(dataDir: string): { trackingStore: TrackingStorePort; quarantineStore: QuarantineStorePort } {
  const sqlSettings = readSqlTrackingSettings();
  if (sqlSettings === undefined) {
    const trackingStore = openTrackingStore(dataDir);
    return { trackingStore, quarantineStore: new QuarantineStore(trackingStore.db, trackingStore) };
  }
  if (sqlSettings.sqlLogin !== undefined) {
    secretScrubber.addSecrets([sqlSettings.sqlLogin.password]);
    return openSqlTrackingStores(sqlSettings, connectorLogger());
  }
  return openSqlTrackingStores(sqlSettings, connectorLogger(), createAzureCredential(sqlSettings.managedIdentityClientId));
}

/** Replaces the dependencies that `getDependencies()` returns. Pass undefined to build them from settings again. */
export function setDependencies(replacement: Dependencies | undefined): void {
  dependencies = replacement;
  if (replacement === undefined) {
    configuration = undefined;
  }
}

/**
 * Builds the lifecycle event publisher on the first publish, after the secret store is ready, and
 * again whenever the Event Grid topic key changes, so a key in Key Vault is found and rotated.
 */
function createLazyEventPublisher(store: SecretStore, log: pino.Logger): EventPublisher {
  const readTopicSetting = (name: string): string | undefined => (name === eventGridSettingNames.key ? store.read(name) : readSetting(name));
  let publisher: EventPublisher | undefined;
  let topicKey: string | undefined;
  return {
    publish: async (event) => {
      await store.ready();
      const currentKey = store.read(eventGridSettingNames.key);
      if (publisher === undefined || currentKey !== topicKey) {
        topicKey = currentKey;
        const localTopicKey = readSetting(eventGridSettingNames.localTopicKey);
        if (localTopicKey !== undefined) {
          secretScrubber.addSecrets([localTopicKey]);
        }
        publisher = createEventPublisher(readTopicSetting, log, createLoggingEventPublisher(log));
      }
      await publisher.publish(event);
    },
  };
}

/** Writes each lifecycle event to the connector log, for hosts without an event topic. */
function createLoggingEventPublisher(log: pino.Logger): EventPublisher {
  return {
    publish: async (event) => {
      log.info({ eventType: event.type, messageId: event.messageId, connectorId: event.connectorId, ...event.data }, 'lifecycle event');
    },
  };
}
