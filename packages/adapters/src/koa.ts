import type { IncomingMessage } from 'node:http';
import type { AdapterOptions, App, RequestListener } from './app.js';
import { NotAnAppError } from './errors.js';
import { trustedChain, type Trust } from './forwarded.js';
import { carryHooks, markRebindable } from './lifespan.js';
import { isKoaApp, type KoaLike } from './shapes.js';

const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'];
const kTrusted = Symbol('nodicorn.adapters.peerTrusted');

/** The trust decision for a request's peer, made once per connection: parsing the address is not free. */
function peerTrusted(req: IncomingMessage, trust: Trust): boolean {
  const socket = req.socket as IncomingMessage['socket'] & { [kTrusted]?: boolean };
  return (socket[kTrusted] ??= trust(socket.remoteAddress));
}

/**
 * Makes a request safe for a Koa app with `proxy = true`, which believes X-Forwarded-* from anyone:
 * from an untrusted peer the headers go (with the app's `proxyIpHeader`); from a trusted one the
 * X-Forwarded-For list is cut to its believable part, so `ctx.ip` names the same client as Express's
 * `req.ip` would.
 */
export function normaliseForKoa(req: IncomingMessage, trust: Trust, ipHeader: string): void {
  const headers = req.headers;
  // Most requests carry no forwarding header at all: nothing to strip or cut, no address to judge.
  if (headers['x-forwarded-for'] === undefined && headers['x-forwarded-proto'] === undefined && headers['x-forwarded-host'] === undefined && headers[ipHeader] === undefined) return;
  if (!peerTrusted(req, trust)) {
    for (const name of FORWARDED_HEADERS) delete headers[name];
    delete headers[ipHeader];
    return;
  }
  const list = headers[ipHeader];
  if (typeof list === 'string' && list.includes(',')) headers[ipHeader] = trustedChain(req.socket.remoteAddress, list, trust).join(', ');
}

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
      normaliseForKoa(req, trust, ipHeader);
      (callback ??= app.callback())(req, res);
    };
  }
  return markRebindable(carryHooks(app, { handle }), options, (o) => fromKoa(app, o));
}
