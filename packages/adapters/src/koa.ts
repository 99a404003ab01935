import type { AdapterOptions, App, RequestListener } from './app.js';
import { NotAnAppError } from './errors.js';
import { normaliseForwarded } from './forwarded.js';
import { carryHooks, markRebindable } from './lifespan.js';
import { isKoaApp, type KoaLike } from './shapes.js';

/**
 * Serves a Koa app (3, the version tested) through `app.callback()`, built on the first request so middleware added
 * in `startup` is included. Koa's own error handling answers thrown errors with 500 and logs them.
 *
 * With `options.trustProxy` the app's `proxy` is turned on (it is one global flag) and X-Forwarded-*
 * is stripped from requests of untrusted peers before Koa sees them, so `ctx.ip`, `ctx.protocol` and
 * `ctx.host` follow --forwarded-allow-ips. `upgrade`, `startup` and `shutdown` set on the app are carried over.
 */
export function fromKoa(app: KoaLike, options: AdapterOptions = {}): App {
  if (!isKoaApp(app)) throw new NotAnAppError(app, 'a Koa app (new Koa())');
  const trust = options.trustProxy;
  let callback: RequestListener | undefined;
  let handle: App['handle'] = (req, res) => (callback ??= app.callback())(req, res);
  if (trust) {
    app.proxy = true;
    const ipHeader = (app.proxyIpHeader ?? 'X-Forwarded-For').toLowerCase();
    handle = (req, res) => {
      normaliseForwarded(req, trust, ipHeader);
      (callback ??= app.callback())(req, res);
    };
  }
  return markRebindable(carryHooks(app, { handle }), options, (o) => fromKoa(app, o));
}
