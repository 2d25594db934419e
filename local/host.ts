import fs from 'node:fs';
import path from 'node:path';
import { adminFunctionsPathSegments, createAdminInvocationHandler } from './admin/adminInvocation';
import type { DurableEngine, DurableEngineOptions } from './durable/engine';
import { createEventGridTopicHandler, eventGridTopicPath, eventGridTopicPathSegments, exposeTopicKeyToApp } from './eventGrid/topicEndpoint';
import { FunctionInvoker, type Invoker } from './functionsCore/invoker';
import { loadApp, resolveAppMainPath, runAppHooks } from './functionsCore/loadApp';
import type { FunctionRegistry } from './functionsCore/registry';
import { HostHttpServer } from './http/server';
import { RouteTable } from './http/routeTable';
import { resolveHostKey, resolveOperatorName, type HostKey } from './keys';
import { createCoreLogSink, createHostLogger, createInvocationLogSink, logCaughtError, type HostLogger } from './logger';
import { configureLoopbackEnvironment, toDurableClientTypedData } from './management/clientBinding';
import { loadDurableClientAxios, serveManagementInProcess, type AxiosModule } from './management/inProcessClientAdapter';
import { createManagementHandler } from './management/managementApi';
import { applyLocalSettings, readHostEnvironment, readHostJson, type HostEnvironment, type HostJsonConfig, type LocalSettingsResult } from './settings';
import { readTimerFunction } from './timer/timerFunction';
import { TimerScheduler } from './timer/timerScheduler';
import { FunctionWorkerPool } from './workers/functionWorkerPool';

/**
 * Starts and stops the local host: settings, the app, the data folder, the host key, the HTTP
 * server and, when the app has durable functions, the durable engine with its management API.
 */

export interface StartHostOptions {
  /** Folder of the Functions app: its package.json `main`, host.json and local.settings.json. */
  appRoot: string;
  /** TCP port on 127.0.0.1. With 0 the system picks a free port. */
  port: number;
  /** Folder for the durable engine's database and the key file, created when missing. */
  dataDir: string;
  /** Logger to use instead of the one configured by `LOG_LEVEL`. */
  logger?: HostLogger;
}

export interface RunningHost {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  port: number;
  routePrefix: string;
  taskHubName: string;
  /** Source of the host key. The key itself is not exposed here. */
  hostKeySource: HostKey['source'];
  /** Path of the key file when `hostKeySource` is `file`. */
  hostKeyFilePath: string | undefined;
  logger: HostLogger;
  /**
   * Stops gracefully: new requests get 503, running requests get the grace period
   * (`HOST_SHUTDOWN_GRACE_PERIOD_MS`) to finish, then the durable engine stops and the server
   * closes. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
}

const durableTriggerTypes = ['orchestrationtrigger', 'activitytrigger', 'entitytrigger'];
const durableClientBindingTypes = ['durableclient', 'orchestrationclient'];
const servedTriggerTypes = ['httptrigger', 'timertrigger', 'eventgridtrigger', ...durableTriggerTypes];

function usesDurableFunctions(registry: FunctionRegistry): boolean {
  return [...registry.functions.values()].some(
    (fn) =>
      durableTriggerTypes.includes(fn.trigger.type.toLowerCase()) ||
      Object.values(fn.bindings).some((binding) => durableClientBindingTypes.includes(binding.type.toLowerCase())),
  );
}

/**
 * Creates the durable engine. Its module is loaded here rather than imported at the top, so that
 * an app without durable functions runs without loading SQLite.
 */
function openDurableEngine(options: DurableEngineOptions): DurableEngine {
  let engineModule: typeof import('./durable/engine');
  try {
    engineModule = require('./durable/engine') as typeof import('./durable/engine');
  } catch (error) {
    throw new Error(`The app registers durable functions, but the durable engine could not be loaded: ${(error as Error).message}`, { cause: error });
  }
  return new engineModule.DurableEngine(options);
}

function logRegistrations(logger: HostLogger, registry: FunctionRegistry, routeTable: RouteTable, hostJson: HostJsonConfig): void {
  for (const route of routeTable.routes) {
    const path = `/${[hostJson.routePrefix, route.template.text].filter((part) => part !== '').join('/')}`;
    logger.info({ functionName: route.fn.name, path, methods: route.methods ?? 'any', authLevel: route.authLevel }, 'HTTP function registered');
  }
  for (const conflict of routeTable.findConflicts()) {
    logger.warn(conflict, 'two functions have the same route and method; only the served one receives requests');
  }
  for (const fn of registry.functionsWithTrigger('eventGridTrigger')) {
    logger.info({ functionName: fn.name, path: eventGridTopicPath }, 'Event Grid function registered');
  }
  for (const fn of registry.functions.values()) {
    if (!servedTriggerTypes.includes(fn.trigger.type.toLowerCase())) {
      logger.warn({ functionName: fn.name, triggerType: fn.trigger.type }, 'function not run: the local host has no runner for its trigger type');
    }
  }
}

function logHostKey(logger: HostLogger, hostKey: HostKey): void {
  if (hostKey.permissionsFixed) {
    logger.warn({ keyFile: hostKey.filePath }, 'key file was readable by other users, so its mode was set to 0600');
  }
  logger.info({ keySource: hostKey.source, keyFile: hostKey.filePath, keyFileCreated: hostKey.created }, 'host key loaded');
}

async function loadFunctionsApp(appRoot: string, logger: HostLogger): Promise<FunctionRegistry> {
  try {
    return await loadApp(appRoot, createCoreLogSink(logger));
  } catch (error) {
    throw new Error(`The Functions app in ${appRoot} failed to load: ${(error as Error).message}`, { cause: error });
  }
}

interface HostParts {
  appRoot: string;
  logger: HostLogger;
  environment: HostEnvironment;
  registry: FunctionRegistry;
  server: HostHttpServer;
  engine: DurableEngine | undefined;
  timerScheduler: TimerScheduler | undefined;
  /** Runs the function invocations when `FUNCTIONS_WORKER_PROCESS_COUNT` is set. */
  workerPool: FunctionWorkerPool | undefined;
  /** Stops serving the durable client's management API calls in process. Undefined when they go over HTTP. */
  stopServingManagementInProcess: (() => void) | undefined;
}

function hostOrigin(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/**
 * Loads the axios module of the app's `durable-functions`, so that the host can serve the
 * durable client's calls in process. Returns undefined, and the calls go over HTTP, when that
 * module is not found.
 */
function loadAppDurableClientAxios(appRoot: string, logger: HostLogger): AxiosModule | undefined {
  const lookup = loadDurableClientAxios(resolveAppMainPath(appRoot));
  if (!lookup.found) {
    logger.info({ appRoot, reason: lookup.reason }, 'durable client calls go over HTTP because the in-process adapter cannot be set');
    return undefined;
  }
  return lookup.axios;
}

function createStop(parts: HostParts): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const { logger, server, engine, environment, timerScheduler } = parts;
    const startTime = Date.now();
    logger.info({ activeRequests: server.activeRequestCount, gracePeriodMs: environment.shutdownGracePeriodMs }, 'host stopping');
    server.beginStopping();
    const [requestsFinished, timerRunsFinished] = await Promise.all([
      server.waitForIdle(environment.shutdownGracePeriodMs),
      timerScheduler ? timerScheduler.stop(environment.shutdownGracePeriodMs) : true,
    ]);
    if (!requestsFinished) {
      logger.warn({ activeRequests: server.activeRequestCount }, 'grace period ended with requests still running, so their connections are closed');
    }
    if (!timerRunsFinished) {
      logger.warn({}, 'grace period ended with timer functions still running; the host stops without waiting for them');
    }
    const remainingMs = () => Math.max(0, environment.shutdownGracePeriodMs - (Date.now() - startTime));
    if (engine) {
      await engine.stop(remainingMs());
    }
    if (parts.workerPool) {
      await parts.workerPool.stop(remainingMs());
    } else {
      try {
        await runAppHooks(parts.registry, 'appTerminate', parts.appRoot);
      } catch (error) {
        logCaughtError(logger, 'appTerminate hook failed', error);
      }
    }
    await server.close();
    parts.stopServingManagementInProcess?.();
    logger.info({ durationInMilliseconds: Date.now() - startTime }, 'host stopped');
  };
  return () => {
    stopping ??= stop();
    return stopping;
  };
}

/**
 * Starts the host and resolves once it is ready.
 *
 * It reads local.settings.json and host.json, loads the app, and creates the data folder and the
 * host key, runs the app's appStart hooks and, when the app has durable functions, opens
 * `<dataDir>/durable.db` and provides the `durableClient` binding. Only then it listens on
 * 127.0.0.1 and, before serving the first request, starts the engine's recovery. Timer schedules
 * start once the host is ready. An invalid timer schedule stops the start with an error.
 */
export async function startHost(options: StartHostOptions): Promise<RunningHost> {
  const appRoot = path.resolve(options.appRoot);
  const localSettings = applyLocalSettings(appRoot);
  const environment = readHostEnvironment();
  const logger = options.logger ?? createHostLogger(environment.logLevel);
  try {
    return await startWithLogger(appRoot, options, environment, logger, localSettings);
  } catch (error) {
    logCaughtError(logger, 'host failed to start', error);
    throw error;
  }
}

async function startWithLogger(
  appRoot: string,
  options: StartHostOptions,
  environment: HostEnvironment,
  logger: HostLogger,
  localSettings: LocalSettingsResult,
): Promise<RunningHost> {
  const hostJson = readHostJson(appRoot);
  logger.info(
    { appRoot, localSettingsFile: localSettings.filePath, settingsApplied: localSettings.appliedNames.length, settingsOverriddenByEnvironment: localSettings.overriddenNames, hostJsonFile: hostJson.filePath },
    'host starting',
  );

  const registry = await loadFunctionsApp(appRoot, logger);
  const workerPool =
    environment.functionWorkerCount === undefined
      ? undefined
      : new FunctionWorkerPool({
          appRoot,
          workerCount: environment.functionWorkerCount,
          registry,
          logger,
          invocationLog: createInvocationLogSink(logger),
          coreLog: createCoreLogSink(logger),
        });
  const invoker: Invoker = workerPool ?? new FunctionInvoker(registry, createInvocationLogSink(logger));
  const routeTable = new RouteTable(registry.functionsWithTrigger('httpTrigger'), hostJson.routePrefix);
  const timerFunctions = registry.functionsWithTrigger('timerTrigger').map((fn) => readTimerFunction(fn));
  logRegistrations(logger, registry, routeTable, hostJson);

  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const hostKey = resolveHostKey(dataDir);
  logHostKey(logger, hostKey);
  exposeTopicKeyToApp(hostKey.value);

  const server = new HostHttpServer({
    logger,
    invoker,
    hostKey: hostKey.value,
    operatorName: resolveOperatorName(),
    maxRequestBodyBytes: environment.maxRequestBodyBytes,
    routeTable,
    routePrefix: hostJson.routePrefix,
    connectionLimits: environment.connectionLimits,
  });
  const timerScheduler = timerFunctions.length > 0 ? new TimerScheduler(timerFunctions, { invoker, logger }) : undefined;
  // The functions that run during a stop publish their events to this topic, as they call the management API.
  server.addHostEndpoint(
    eventGridTopicPathSegments,
    createEventGridTopicHandler({ invoker, logger, functions: registry.functionsWithTrigger('eventGridTrigger'), hostKey: hostKey.value, maxRequestBodyBytes: environment.maxRequestBodyBytes }),
    { servedWhileStopping: true },
  );
  server.addHostEndpoint(
    adminFunctionsPathSegments,
    createAdminInvocationHandler({ invoker, logger, registry, timerScheduler, hostKey: hostKey.value, maxRequestBodyBytes: environment.maxRequestBodyBytes }),
  );
  const parts: HostParts = { appRoot, logger, environment, registry, server, engine: undefined, timerScheduler, workerPool, stopServingManagementInProcess: undefined };
  let durableClientAxios: AxiosModule | undefined;
  let port = 0;
  try {
    if (workerPool) {
      // Each worker loads the app and runs its appStart hooks, as each language worker process does.
      await workerPool.start();
      logger.info({ workerCount: workerPool.workerCount }, 'function workers started');
    } else {
      logger.info({}, 'functions run on the host thread');
      await runAppHooks(registry, 'appStart', appRoot);
    }

    if (usesDurableFunctions(registry)) {
      for (const bindingType of durableClientBindingTypes) {
        invoker.provideInput(bindingType, () => toDurableClientTypedData({ origin: hostOrigin(port), taskHubName: hostJson.durableTask.hubName, hostKey: hostKey.value }));
      }
      parts.engine = openDurableEngine({
        databasePath: path.join(dataDir, 'durable.db'),
        registry,
        invoker,
        logger,
        taskHubName: hostJson.durableTask.hubName,
        maxConcurrentActivityFunctions: hostJson.durableTask.maxConcurrentActivityFunctions,
        maxConcurrentOrchestratorFunctions: hostJson.durableTask.maxConcurrentOrchestratorFunctions,
        functionTimeoutInMilliseconds: hostJson.functionTimeoutInMilliseconds,
      });
      server.setManagementHandler(createManagementHandler({ engine: parts.engine, hostKey: hostKey.value, logger, maxRequestBodyBytes: environment.maxRequestBodyBytes }));
      durableClientAxios = workerPool ? undefined : loadAppDurableClientAxios(appRoot, logger);
    } else {
      logger.info({}, 'durable engine not started: the app registers no durable functions');
    }

    // The port opens only now that the app is loaded and storage is open. Recovery starts in the
    // listening callback, before the first connection is accepted, because the durable client
    // binding data that recovered invocations may need contains the port. The in-process adapter
    // is set before then too, because each client copies the axios defaults when it is created.
    port = await server.listen(options.port, (boundPort) => {
      port = boundPort;
      configureLoopbackEnvironment(boundPort);
      workerPool?.configure(
        boundPort,
        parts.engine ? { origin: hostOrigin(boundPort), server: (request) => server.serveManagementRequest(request) } : undefined,
      );
      if (durableClientAxios) {
        parts.stopServingManagementInProcess = serveManagementInProcess(durableClientAxios, hostOrigin(boundPort), (request) => server.serveManagementRequest(request));
        logger.info({ origin: hostOrigin(boundPort) }, 'durable client calls to the management API are served in process');
      }
      if (parts.engine) {
        parts.engine.start();
        logger.info({ databasePath: path.join(dataDir, 'durable.db'), taskHubName: hostJson.durableTask.hubName }, 'durable engine started');
      }
      server.markReady();
      timerScheduler?.start();
    });
  } catch (error) {
    await timerScheduler?.stop(0);
    await parts.engine?.stop(0);
    await workerPool?.stop(0);
    await server.close();
    parts.stopServingManagementInProcess?.();
    throw error;
  }
  const baseUrl = hostOrigin(port);

  logger.info({ baseUrl, port, routePrefix: hostJson.routePrefix, functionCount: registry.functions.size }, 'host started');
  return {
    baseUrl,
    port,
    routePrefix: hostJson.routePrefix,
    taskHubName: hostJson.durableTask.hubName,
    hostKeySource: hostKey.source,
    hostKeyFilePath: hostKey.filePath,
    logger,
    stop: createStop(parts),
  };
}
