import Module from 'node:module';
import type { FunctionRegistry, HookCallback, HookName, ProgrammingModel, RegisteredFunction, RpcBinding } from './registry';

/** A callback that the app can cancel, as `Disposable` in `@azure/functions-core`. */
export class Disposable {
  #dispose: (() => unknown) | undefined;

  constructor(dispose: () => unknown) {
    this.#dispose = dispose;
  }

  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((item) => item.dispose()));
  }

  dispose(): void {
    this.#dispose?.();
    this.#dispose = undefined;
  }
}

/** Host log sink for messages that `@azure/functions` sends through `coreApi.log`. */
export type CoreLogSink = (level: string, category: string, message: string) => void;

/**
 * Builds the `@azure/functions-core` module that the Functions worker normally provides,
 * recording what the app registers into `registry`.
 */
export function createCoreApi(registry: FunctionRegistry, log: CoreLogSink, hostVersion: string) {
  return {
    version: '3.10.1',
    hostVersion,
    Disposable,
    setProgrammingModel(model: ProgrammingModel): void {
      registry.programmingModel = model;
    },
    getProgrammingModel(): ProgrammingModel | undefined {
      return registry.programmingModel;
    },
    registerFunction(metadata: { name: string; bindings: Record<string, RpcBinding>; retryOptions?: unknown }, handler: RegisteredFunction['handler']): Disposable {
      registry.registerFunction(metadata, handler);
      return new Disposable(() => registry.functions.delete(metadata.name));
    },
    registerHook(hookName: HookName, callback: HookCallback): Disposable {
      const hooks = registry.hooks[hookName];
      if (!hooks) {
        throw new Error(`Hook "${hookName}" is not supported by the local host. Supported hooks: ${Object.keys(registry.hooks).join(', ')}.`);
      }
      hooks.add(callback);
      return new Disposable(() => hooks.delete(callback));
    },
    log,
  };
}

const coreModuleName = '@azure/functions-core';
let installedCoreApi: unknown;

/**
 * Makes `require('@azure/functions-core')` return `coreApi` in this process, the way the
 * Functions worker does, so that `@azure/functions` registers functions instead of running in
 * test mode.
 */
export function installCoreApi(coreApi: unknown): void {
  installedCoreApi = coreApi;
  const moduleInternals = Module as unknown as { prototype: { require: (id: string) => unknown } };
  const originalRequire = moduleInternals.prototype.require;
  if ((originalRequire as { coreApiInstalled?: boolean }).coreApiInstalled) {
    return;
  }
  const requireWithCore = function (this: unknown, id: string): unknown {
    if (id === coreModuleName) {
      return installedCoreApi;
    }
    return originalRequire.call(this, id);
  };
  (requireWithCore as { coreApiInstalled?: boolean }).coreApiInstalled = true;
  moduleInternals.prototype.require = requireWithCore;
}
