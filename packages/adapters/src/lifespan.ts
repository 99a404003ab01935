import type { AdapterOptions, App } from './app.js';

const HOOKS = ['upgrade', 'startup', 'shutdown'] as const;

/**
 * Copies `upgrade`, `startup` and `shutdown` from the object an adapter wraps onto its App, bound to
 * that object, so `app.startup = connectDb` or `app.upgrade = …` on an Express, Koa or Hono app still
 * reaches the worker.
 */
export function carryHooks(source: unknown, app: App): App {
  if (source === null || (typeof source !== 'object' && typeof source !== 'function')) return app;
  const bag = source as Record<string, unknown>;
  for (const hook of HOOKS) {
    const fn = bag[hook];
    if (typeof fn === 'function') (app as unknown as Record<string, unknown>)[hook] = fn.bind(source);
  }
  return app;
}

// A global symbol, so that an App built by the app's own copy of this package can still be re-bound
// by the server's copy.
const kRebind = Symbol.for('nodicorn.adapters.rebind');

type Rebind = (options: AdapterOptions) => App;

/**
 * Marks an App built without server options (`export default fromExpress(app)`) so that `toApp` can
 * rebuild it with the server's `trustProxy`: proxy trust follows --forwarded-allow-ips whether or not
 * the module called an adapter itself.
 */
export function markRebindable(app: App, options: AdapterOptions, rebind: Rebind): App {
  if (!options.trustProxy) Object.defineProperty(app, kRebind, { value: rebind, configurable: true });
  return app;
}

/** The App rebuilt with `options` if it was built without them, else the App as it is. */
export function rebind(app: App, options: AdapterOptions): App {
  const fn = (app as unknown as Record<symbol, Rebind | undefined>)[kRebind];
  return fn && options.trustProxy ? fn(options) : app;
}
