import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AdapterOptions, App } from './app.js';
import { NotAnAppError } from './errors.js';
import { fromExpress } from './express.js';
import { fromFastify } from './fastify.js';
import { markRebindable } from './lifespan.js';
import { isExpressApp, isFastifyApp, isNestApp, type NestLike } from './shapes.js';

const EXPECTED = 'a NestJS application (NestFactory.create()) on the Express or Fastify platform';

/**
 * Serves a NestJS application (11, the version tested) through the framework app under it,
 * `getHttpAdapter().getInstance()`, adapted as any Express app or Fastify instance is, so proxy trust
 * (--forwarded-allow-ips) reaches `req.ip`/`req.protocol` in controllers on either platform.
 *
 * `startup` awaits `app.init()` (what `listen()` does before binding: routes, middleware,
 * `onModuleInit`, `onApplicationBootstrap`), then, on Fastify, `ready()`. `shutdown` awaits
 * `app.close()`, so `onModuleDestroy`, `beforeApplicationShutdown` and `onApplicationShutdown` run
 * in every worker on a graceful stop (Nest's own `enableShutdownHooks()` is not needed and would race
 * nodicorn's drain). Upgrades go to the listeners on Nest's http server, where a `ws` gateway adapter
 * or a raw `getHttpServer().on('upgrade')` listens.
 */
export function fromNest(nest: NestLike, options: AdapterOptions = {}): App {
  if (!isNestApp(nest)) throw new NotAnAppError(nest, EXPECTED);
  const instance = nest.getHttpAdapter().getInstance();
  let inner: App;
  if (isExpressApp(instance)) inner = fromExpress(instance, options);
  else if (isFastifyApp(instance)) inner = fromFastify(instance, options);
  else throw new NotAnAppError(instance, `${EXPECTED}: its http adapter's instance to be an Express app or a Fastify instance`);
  const server = nest.getHttpServer();
  const served: App = {
    handle: inner.handle,
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (server.listenerCount('upgrade') > 0) server.emit('upgrade', req, socket, head);
      else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    },
    async startup() {
      await nest.init();
      // Fastify's own ready() (plugins, onReady hooks) comes after Nest has registered its routes.
      await inner.startup?.();
    },
    // close() closes the Fastify instance too (onClose hooks); calling the inner shutdown would close it twice.
    shutdown: async () => void (await nest.close()),
  };
  return markRebindable(served, options, (o) => fromNest(nest, o));
}
