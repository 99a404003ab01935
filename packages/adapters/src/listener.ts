import type { AdapterOptions, App, RequestListener } from './app.js';
import { normaliseForwarded } from './forwarded.js';
import { carryHooks, markRebindable } from './lifespan.js';

/**
 * Wraps a plain Node request listener as an App; `upgrade`, `startup` and `shutdown` set as
 * properties of the function are carried over.
 *
 * A listener (or a meta-framework's handler: React Router's `createRequestListener`, SvelteKit's
 * `handler`, a Next.js request handler) reads X-Forwarded-* itself and believes whoever sent them.
 * With `options.trustProxy` they are removed from requests of untrusted peers and X-Forwarded-For is
 * cut to its believable part, so what the app reads follows --forwarded-allow-ips.
 */
export function fromListener(listener: RequestListener, options: AdapterOptions = {}): App {
  const trust = options.trustProxy;
  const handle: App['handle'] = trust
    ? (req, res) => {
        normaliseForwarded(req, trust, 'x-forwarded-for');
        return listener(req, res);
      }
    : listener;
  return markRebindable(carryHooks(listener, { handle }), options, (o) => fromListener(listener, o));
}
