import { randomUUID } from 'node:crypto';
import type { FunctionRegistry, RegisteredFunction, RpcInvocationResponse, RpcParameterBinding, RpcTypedData } from './registry';

/** Supplies the data of a non-trigger input binding (such as `durableClient`) for one invocation. */
export type InputBindingProvider = (bindingName: string, fn: RegisteredFunction) => RpcTypedData;

export interface InvocationRequest {
  triggerData: RpcTypedData;
  triggerMetadata?: Record<string, RpcTypedData>;
  invocationId?: string;
  /**
   * Data of every non-trigger input binding by binding name, which the invoker uses instead of
   * asking its providers. A host that invokes in another thread computes it before it sends the request.
   */
  inputBindingData?: Record<string, RpcTypedData>;
}

export interface InvocationResult {
  invocationId: string;
  response: RpcInvocationResponse;
  /** The handler's return value before conversion to typed data. */
  result: unknown;
}

/** The function runner that the host's triggers, timers and durable engine call. */
export interface Invoker {
  /** Registers the provider for input bindings of `bindingType` (compared case-insensitively). */
  provideInput(bindingType: string, provider: InputBindingProvider): void;
  invoke(fn: RegisteredFunction, request: InvocationRequest): Promise<InvocationResult>;
}

/**
 * Returns the data of the non-trigger input bindings of `fn` by binding name, from the
 * providers registered by binding type (lower case). Raises an error for a binding type without one.
 */
export function provideInputBindingData(fn: RegisteredFunction, providers: ReadonlyMap<string, InputBindingProvider>): Record<string, RpcTypedData> {
  const data: Record<string, RpcTypedData> = {};
  for (const [name, binding] of Object.entries(fn.bindings)) {
    if (name === fn.triggerBindingName || binding.direction === 'out') {
      continue;
    }
    const provider = providers.get(binding.type.toLowerCase());
    if (!provider) {
      throw new Error(`Function "${fn.name}" has an input binding of type "${binding.type}", which the local host does not support.`);
    }
    data[name] = provider(name, fn);
  }
  return data;
}

export type InvocationLogSink = (fn: RegisteredFunction, invocationId: string, level: string, category: string, message: string) => void;

/**
 * Invokes registered functions through the programming model that the app set, in the order
 * the Functions worker uses: invocation model, arguments, preInvocation hooks, the handler,
 * postInvocation hooks, response.
 */
export class FunctionInvoker implements Invoker {
  readonly #registry: FunctionRegistry;
  readonly #inputProviders = new Map<string, InputBindingProvider>();
  readonly #log: InvocationLogSink;

  constructor(registry: FunctionRegistry, log: InvocationLogSink) {
    this.#registry = registry;
    this.#log = log;
  }

  /** Registers the provider for input bindings of `bindingType` (compared case-insensitively). */
  provideInput(bindingType: string, provider: InputBindingProvider): void {
    this.#inputProviders.set(bindingType.toLowerCase(), provider);
  }

  async invoke(fn: RegisteredFunction, request: InvocationRequest): Promise<InvocationResult> {
    const model = this.#registry.programmingModel;
    if (!model) {
      throw new Error('The app did not set a programming model. Check that it imports "@azure/functions" and registers its functions at load time.');
    }
    const invocationId = request.invocationId ?? randomUUID();
    const inputBindingData = request.inputBindingData ?? provideInputBindingData(fn, this.#inputProviders);
    const inputData: RpcParameterBinding[] = [
      { name: fn.triggerBindingName, data: request.triggerData },
      ...Object.entries(inputBindingData).map(([name, data]) => ({ name, data })),
    ];

    const coreContext = {
      invocationId,
      request: { inputData, triggerMetadata: request.triggerMetadata ?? {} },
      metadata: { name: fn.name, bindings: fn.bindings, retryOptions: fn.retryOptions },
      state: 'invocation' as string,
      log: (level: string, category: string, message: string) => this.#log(fn, invocationId, level, category, message),
    };
    const invocationModel = model.getInvocationModel(coreContext);
    const { context, inputs } = await invocationModel.getArguments();

    const hookData: Record<string, unknown> = {};
    let handler = fn.handler;
    const preContext = {
      invocationContext: context,
      inputs,
      hookData,
      appHookData: this.#registry.appHookData,
      get functionCallback() {
        return handler;
      },
      set functionCallback(value: RegisteredFunction['handler']) {
        handler = value;
      },
    };
    coreContext.state = 'preInvocationHooks';
    for (const hook of this.#registry.hooks.preInvocation) {
      await hook(preContext);
    }

    coreContext.state = 'invocation';
    let result: unknown;
    let error: unknown;
    try {
      result = await invocationModel.invokeFunction(context, preContext.inputs, handler);
    } catch (caught) {
      error = caught;
    }

    coreContext.state = 'postInvocationHooks';
    const postContext = { invocationContext: context, inputs: preContext.inputs, result, error, hookData, appHookData: this.#registry.appHookData };
    for (const hook of this.#registry.hooks.postInvocation) {
      await hook(postContext);
    }
    if (postContext.error) {
      throw postContext.error;
    }
    const response = await invocationModel.getResponse(context, postContext.result);
    return { invocationId, response, result: postContext.result };
  }
}

/** Decodes typed data the way `@azure/functions` does for return values. */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (!data) {
    return undefined;
  }
  if (data.json !== undefined) {
    return JSON.parse(data.json);
  }
  if (data.string !== undefined) {
    return data.string;
  }
  if (data.bytes !== undefined) {
    return Buffer.from(data.bytes);
  }
  if (data.int !== undefined) {
    return data.int;
  }
  if (data.double !== undefined) {
    return data.double;
  }
  return data.http;
}
