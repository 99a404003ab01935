import type { AdapterOptions, App } from './app.js';
import { tagRequest } from './client-info.js';
import { NotAnAppError } from './errors.js';
import { carryHooks, markRebindable } from './lifespan.js';
import { nodeServer } from './node-server.js';
import { isFetchApp, isHonoApp, type FetchApp, type FetchHandler } from './shapes.js';

const ERROR_BODY = 'Internal Server Error\n';

/** A handler that threw or rejected: log it as the worker's error, answer as @hono/node-server would. */
function onFetchError(err: unknown): Response {
  const name = err instanceof Error ? err.name : '';
  // A request Node parsed but Fetch cannot represent (bad Host, backslash path) is the client's fault.
  if (name === 'RequestError') return new Response(null, { status: 400 });
  console.error('Error in fetch handler:', err);
  return new Response(name === 'TimeoutError' ? null : ERROR_BODY, {
    status: name === 'TimeoutError' ? 504 : 500,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}

/**
 * Serves a fetch handler (`(request) => Response`, or an object or function with `fetch`), through
 * @hono/node-server's request listener: the request body streams in as `request.body`, a streamed
 * `Response` body streams out with backpressure, `request.signal` aborts when the client goes away,
 * and a thrown or rejected handler becomes a logged 500 while the worker lives.
 *
 * The handler's second argument is `{ incoming, outgoing }`, the Node request and response. The
 * client's address and scheme, honouring proxy trust, come from `clientInfo(request)`.
 * `upgrade`, `startup` and `shutdown` on the object are carried over.
 */
export function fromFetch(handler: FetchHandler | FetchApp, options: AdapterOptions = {}): App {
  let fetch: FetchHandler;
  if (isFetchApp(handler)) fetch = handler.fetch.bind(handler);
  else if (typeof handler === 'function') fetch = handler;
  else throw new NotAnAppError(handler, 'a fetch handler: a function (request) => Response, or an object with fetch(request)');
  const trust = options.trustProxy;
  const listener = nodeServer().getRequestListener(
    (request, env) => {
      tagRequest(request, env.incoming as import('node:http').IncomingMessage, trust);
      return fetch(request, env as never);
    },
    { errorHandler: onFetchError },
  );
  const app: App = {
    handle(req, res) {
      // The listener catches the handler's errors itself; this guards the bridge, since an unhandled
      // rejection would end the worker.
      listener(req, res).catch((err: unknown) => {
        console.error('Error writing fetch response:', err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(ERROR_BODY);
        else res.destroy();
      });
    },
  };
  return markRebindable(carryHooks(handler, app), options, (o) => fromFetch(handler, o));
}

/**
 * Serves a Hono app (4): `fromFetch(app)` with Hono's own error handling (`app.onError`, 500 by
 * default) and `c.env.incoming`/`c.env.outgoing` as under @hono/node-server's `serve`, so
 * `getConnInfo` from `@hono/node-server/conninfo` works. For the client behind a proxy use
 * `clientInfo(c.req.raw)`.
 */
export function fromHono(app: FetchApp, options: AdapterOptions = {}): App {
  if (!isHonoApp(app)) throw new NotAnAppError(app, 'a Hono app (new Hono())');
  const adapted = fromFetch(app, options);
  return markRebindable(adapted, options, (o) => fromHono(app, o));
}
