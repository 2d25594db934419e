/**
 * The registrations an Azure Functions v4 app makes while it loads, as the Functions worker
 * records them: the programming model, every function with its bindings, and the hooks.
 */

export interface RpcBinding {
  type: string;
  direction: 'in' | 'out' | 'inout';
  [property: string]: unknown;
}

export interface RegisteredFunction {
  name: string;
  bindings: Record<string, RpcBinding>;
  retryOptions?: unknown;
  handler: (...args: unknown[]) => unknown;
  /** Name of the trigger binding, the one binding whose type ends in `Trigger`. */
  triggerBindingName: string;
  trigger: RpcBinding;
}

export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation';
export type HookCallback = (context: Record<string, unknown>) => unknown;

/** The programming model that `@azure/functions` sets, reduced to what the host calls. */
export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: CoreInvocationContext): InvocationModel;
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], handler: (...args: unknown[]) => unknown): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

/** The typed data of the Functions RPC protocol: exactly one property is set. */
export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  int?: number;
  double?: number;
  http?: RpcHttp;
}

export interface RpcHttp {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: RpcTypedData;
  statusCode?: string;
  cookies?: unknown[];
}

export interface RpcParameterBinding {
  name: string;
  data: RpcTypedData | undefined;
}

export interface RpcInvocationResponse {
  invocationId: string;
  outputData?: RpcParameterBinding[];
  returnValue?: RpcTypedData | null;
}

export interface CoreInvocationContext {
  invocationId: string;
  request: {
    inputData: RpcParameterBinding[];
    triggerMetadata?: Record<string, RpcTypedData>;
  };
  metadata: { name: string; bindings: Record<string, RpcBinding>; retryOptions?: unknown };
  state?: string;
  log(level: string, category: string, message: string): void;
}

function isTriggerType(type: string): boolean {
  return type.toLowerCase().endsWith('trigger');
}

export class FunctionRegistry {
  programmingModel: ProgrammingModel | undefined;
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks: Record<HookName, Set<HookCallback>> = {
    appStart: new Set(),
    appTerminate: new Set(),
    preInvocation: new Set(),
    postInvocation: new Set(),
  };
  /** Hook data shared by the appStart and appTerminate hooks and every invocation hook (`appHookData`). */
  readonly appHookData: Record<string, unknown> = {};

  registerFunction(metadata: { name: string; bindings: Record<string, RpcBinding>; retryOptions?: unknown }, handler: RegisteredFunction['handler']): void {
    if (this.functions.has(metadata.name)) {
      throw new Error(`Function "${metadata.name}" is registered twice. Give each function a unique name.`);
    }
    const entry = Object.entries(metadata.bindings).find(([, binding]) => isTriggerType(binding.type));
    if (!entry) {
      throw new Error(`Function "${metadata.name}" has no trigger binding. Register it with a trigger (app.http, app.generic, df.app.*).`);
    }
    const [triggerBindingName, trigger] = entry;
    this.functions.set(metadata.name, { ...metadata, handler, triggerBindingName, trigger });
  }

  /** Lists the registered functions whose trigger binding has the given type, such as `httpTrigger`. */
  functionsWithTrigger(type: string): RegisteredFunction[] {
    return [...this.functions.values()].filter((fn) => fn.trigger.type.toLowerCase() === type.toLowerCase());
  }

  getFunction(name: string): RegisteredFunction | undefined {
    return this.functions.get(name);
  }
}
