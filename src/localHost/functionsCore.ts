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

/** Lifecycle hooks are not used by this app; accepted so the library's `app.hook` works. */
export function registerHook(): { dispose(): void } {
  return { dispose: () => undefined };
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
