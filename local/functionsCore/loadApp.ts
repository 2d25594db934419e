import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createCoreApi, installCoreApi, type CoreLogSink } from './coreApi';
import { FunctionRegistry, type HookName } from './registry';

export const localHostVersion = '4.0.0-local';

/**
 * Loads the Functions app in `appRoot` through its package.json `main`, with
 * `@azure/functions-core` provided, and returns what it registered.
 */
export async function loadApp(appRoot: string, log: CoreLogSink): Promise<FunctionRegistry> {
  const mainPath = resolveAppMainPath(appRoot);
  const registry = new FunctionRegistry();
  installCoreApi(createCoreApi(registry, log, localHostVersion));
  createRequire(mainPath)(mainPath);

  if (!registry.programmingModel) {
    throw new Error(`${mainPath} registered no programming model. The app must import "@azure/functions" and register its functions when it loads.`);
  }
  const capabilities = await registry.programmingModel.getCapabilities({});
  if (capabilities.HttpUri) {
    // With HTTP streaming the library expects the host to proxy each request to its own server.
    throw new Error(`${mainPath} enables HTTP streaming (app.setup({ enableHttpStream: true })), which the local host does not support. Remove that setting to run the app locally.`);
  }
  return registry;
}

/** Runs the app's appStart or appTerminate hooks one after the other, with the app's shared hook data. */
export async function runAppHooks(registry: FunctionRegistry, hookName: Extract<HookName, 'appStart' | 'appTerminate'>, appRoot: string): Promise<void> {
  for (const hook of registry.hooks[hookName]) {
    await hook({ hookData: registry.appHookData, functionAppDirectory: appRoot });
  }
}

/** Returns the absolute path of the app's main file, from the `main` field of its package.json. */
export function resolveAppMainPath(appRoot: string): string {
  const packageJsonPath = path.join(appRoot, 'package.json');
  const packageJson = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8')) as { main?: string };
  if (!packageJson.main) {
    throw new Error(`${packageJsonPath} has no "main" field. Set "main" to the compiled entry file of the Functions app, for example "dist/app.js".`);
  }
  const mainPath = path.resolve(appRoot, packageJson.main);
  if (!fs.existsSync(mainPath)) {
    throw new Error(`The app's main file ${mainPath} does not exist. Build the app first (npm run build).`);
  }
  return mainPath;
}
