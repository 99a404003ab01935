import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { AdapterOptions, App } from './app.js';
import { NotAnAppError } from './errors.js';
import { trustedChain, type Trust } from './forwarded.js';
import { markRebindable } from './lifespan.js';
import { isFastifyApp, type FastifyLike } from './shapes.js';

/** Fastify's request class hangs off the instance under this symbol (lib/symbols.js, Fastify 4 and 5). */
const REQUEST_CLASS = 'fastify.Request';

interface FastifyRequestThis {
  readonly raw: IncomingMessage;
  readonly headers: IncomingMessage['headers'];
}

/** The request decorator that tells whether a request's peer is a trusted proxy (--forwarded-allow-ips). */
const TRUST_DECORATOR = 'nodicornPeerTrusted';

/** The last value of a header Fastify reads "last entry wins" (X-Forwarded-Host, -Proto). */
function lastEntry(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header[header.length - 1] : header;
  if (!text) return undefined;
  return text.slice(text.lastIndexOf(',') + 1).trim() || undefined;
}

/**
 * Fastify fixes proxy trust when the instance is made (`fastify({ trustProxy })`) and builds its
 * request class from it; an app exported bare was made without the server's decision. So the
 * getters Fastify's own trustProxy would define (lib/request.js) are defined on that instance's
 * request class from --forwarded-allow-ips instead; plugin contexts inherit them. `ips` is
 * proxy-addr's `all()` order: the peer first, the client last.
 */
function carryTrust(app: FastifyLike, trust: Trust): boolean {
  const key = Object.getOwnPropertySymbols(app).find((symbol) => symbol.description === REQUEST_CLASS);
  const RequestClass = key ? (app as unknown as Record<symbol, { prototype?: object } | undefined>)[key] : undefined;
  if (!RequestClass?.prototype) return false;
  const peerTrusted = (req: FastifyRequestThis) => trust(req.raw.socket.remoteAddress);
  // When its routes are built, Fastify skips every request class nobody decorated and builds requests
  // from its base class (lib/route.js, "kHasBeenDecorated"), which would skip the getters below too.
  // A decoration through the public API marks the instance's class as one to keep; an app with no
  // plugin that decorates requests (a NestJS app on Fastify, say) needs it.
  if (app.decorateRequest && !app.hasRequestDecorator?.(TRUST_DECORATOR)) {
    app.decorateRequest(TRUST_DECORATOR, { getter(this: unknown) {
      return peerTrusted(this as FastifyRequestThis);
    } });
  }
  const chain = (req: FastifyRequestThis) => trustedChain(req.raw.socket.remoteAddress, req.headers['x-forwarded-for'], trust);
  Object.defineProperties(RequestClass.prototype, {
    ip: {
      configurable: true,
      get(this: FastifyRequestThis) {
        return chain(this)[0] ?? this.raw.socket.remoteAddress;
      },
    },
    ips: {
      configurable: true,
      get(this: FastifyRequestThis) {
        return [this.raw.socket.remoteAddress, ...chain(this).reverse()].filter((a): a is string => a !== undefined);
      },
    },
    host: {
      configurable: true,
      get(this: FastifyRequestThis) {
        const forwarded = peerTrusted(this) ? lastEntry(this.headers['x-forwarded-host']) : undefined;
        return forwarded ?? this.headers.host ?? this.headers[':authority'] ?? '';
      },
    },
    protocol: {
      configurable: true,
      get(this: FastifyRequestThis) {
        const forwarded = peerTrusted(this) ? lastEntry(this.headers['x-forwarded-proto']) : undefined;
        return forwarded ?? ((this.raw.socket as TLSSocket).encrypted ? 'https' : 'http');
      },
    },
  });
  return true;
}

/**
 * Serves a Fastify instance (4 and 5) the way Fastify's own `serverFactory` does: its `routing`
 * handler is the request listener. `startup` awaits `ready()` (plugins loaded, onReady hooks run),
 * `shutdown` awaits `close()` (onClose hooks). Upgrades go to whatever listens for `upgrade` on
 * Fastify's own server, which is where @fastify/websocket listens; with nothing there the request
 * is refused with 400, as nodicorn refuses an upgrade an app cannot take.
 */
export function fromFastify(app: FastifyLike, options: AdapterOptions = {}): App {
  if (!isFastifyApp(app)) throw new NotAnAppError(app, 'a Fastify instance (fastify())');
  if (options.trustProxy && !carryTrust(app, options.trustProxy)) {
    throw new NotAnAppError(app, 'a Fastify 4 or 5 instance', 'its request class was not found, so proxy trust cannot be carried in');
  }
  const server = app.server;
  const served: App = {
    handle: (req, res) => app.routing(req, res),
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (server.listenerCount('upgrade') > 0) server.emit('upgrade', req, socket, head);
      else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    },
    startup: async () => void (await app.ready()),
    shutdown: async () => void (await app.close()),
  };
  return markRebindable(served, options, (o) => fromFastify(app, o));
}
