import Module from 'node:module';

/**
 * The Functions worker hands `@azure/functions` an internal module, `@azure/functions-core`,
 * through which `app.http(...)` / `app.timer(...)` register functions. Core Tools cannot be
 * installed here, so the local host plays the worker's part at that boundary: it records the
 * exact metadata the library produces (route, methods, auth level, schedule) and the handler.
 * What the local host serves therefore comes from the app's own registrations.
 */
export interface RpcBinding {
  type: string;
  direction: 'in' | 'out' | 'inout';
  [key: string]: unknown;
}

export interface RegisteredFunction {
  name: string;
  bindings: Record<string, RpcBinding>;
  handler: (...args: unknown[]) => unknown;
}

const registered: RegisteredFunction[] = [];

export function registerFunction(
  metadata: { name: string; bindings: Record<string, RpcBinding> },
  handler: (...args: unknown[]) => unknown,
): { dispose(): void } {
  if (registered.some((f) => f.name === metadata.name)) {
    throw new Error(`A function named "${metadata.name}" is already registered`);
  }
  const fn: RegisteredFunction = { name: metadata.name, bindings: metadata.bindings, handler };
  registered.push(fn);
  return {
    dispose: () => {
      const at = registered.indexOf(fn);
      if (at >= 0) registered.splice(at, 1);
    },
  };
}

let programmingModel: unknown;
export function setProgrammingModel(model: unknown): void {
  programmingModel = model;
}
export function getProgrammingModel(): unknown {
  return programmingModel;
}

type Hook = (context: Record<string, unknown>) => unknown;
const hooks = new Map<string, Hook[]>();

/** Records a hook the library registers (`app.hook.preInvocation` and the like). */
export function registerHook(name: string, callback: Hook): { dispose(): void } {
  const list = hooks.get(name) ?? [];
  list.push(callback);
  hooks.set(name, list);
  return {
    dispose: () => {
      const at = list.indexOf(callback);
      if (at >= 0) list.splice(at, 1);
    },
  };
}

/**
 * Invokes a function as the worker does: pre-invocation hooks first, each of which may replace
 * the inputs or the handler, then the handler with the inputs and the invocation context.
 */
export async function invokeFunction(
  fn: RegisteredFunction,
  inputs: unknown[],
  invocationContext: unknown,
): Promise<unknown> {
  const context: Record<string, unknown> = {
    invocationContext,
    inputs,
    functionCallback: fn.handler,
    hookData: {},
  };
  for (const hook of hooks.get('preInvocation') ?? []) await hook(context);
  const handler = context.functionCallback as RegisteredFunction['handler'];
  return handler(...(context.inputs as unknown[]), invocationContext);
}

export function registeredFunctions(): readonly RegisteredFunction[] {
  return registered;
}

export function triggerOf(fn: RegisteredFunction): RpcBinding {
  const trigger = Object.values(fn.bindings).find((b) => /trigger$/i.test(b.type));
  if (!trigger) throw new Error(`Function "${fn.name}" has no trigger binding`);
  return trigger;
}

let installed = false;

/**
 * Makes `require('@azure/functions-core')` resolve to this module in plain Node. Jest does the
 * same with a moduleNameMapper entry, since it resolves modules itself.
 */
export function installFunctionsCore(): void {
  if (installed) return;
  installed = true;
  const self = require.resolve('./functionsCore');
  const moduleWithResolver = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const original = moduleWithResolver._resolveFilename;
  moduleWithResolver._resolveFilename = function (request: string, ...rest: unknown[]) {
    if (request === '@azure/functions-core') return self;
    return original.call(this, request, ...rest);
  };
}
