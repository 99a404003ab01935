import type { AdapterOptions, App } from './app.js';
import { NotAnAppError } from './errors.js';
import { carryHooks, markRebindable } from './lifespan.js';
import { isExpressApp, type ExpressLike } from './shapes.js';

/**
 * Serves an Express app (5, the version tested). Express is a Node request listener, so requests go straight in;
 * its final handler answers 404 and turns errors (thrown, or rejected in Express 5) into 500s.
 *
 * With `options.trustProxy` the app's `trust proxy` is set to that decision, per hop as proxy-addr
 * asks, so `req.ip`, `req.ips`, `req.protocol` and `req.host` follow --forwarded-allow-ips: the server's
 * list is the one place proxy trust is configured (an app's own `trust proxy` setting is replaced).
 * `upgrade`, `startup` and `shutdown` set on the Express app are carried over.
 */
export function fromExpress(app: ExpressLike, options: AdapterOptions = {}): App {
  if (!isExpressApp(app)) throw new NotAnAppError(app, 'an Express app (express())');
  const trust = options.trustProxy;
  if (trust) app.set('trust proxy', (address: string | undefined) => trust(address));
  // Express's app function ignores `this`, so it can be the handler itself: no extra frame per request.
  const handle: App['handle'] = app;
  return markRebindable(carryHooks(app, { handle }), options, (o) => fromExpress(app, o));
}
