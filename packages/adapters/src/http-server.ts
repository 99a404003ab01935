import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AdapterOptions, App } from './app.js';
import { NotAnAppError } from './errors.js';
import { normaliseForwarded } from './forwarded.js';
import { carryHooks, markRebindable } from './lifespan.js';
import { isHttpServer, type HttpServerLike } from './shapes.js';

/**
 * Serves a `node:http` Server that is never listened on: each request and upgrade the worker accepts
 * is emitted on it as `request` and `upgrade`, so whatever attached itself to the server (Socket.IO's
 * `new Server(httpServer)`, engine.io, a `ws` WebSocketServer with `{ server }`, plain `on('request')`
 * listeners) answers as if the server had accepted the connection. `listen()` is nodicorn's job: an
 * exported server that is already listening is refused, as two listeners would compete.
 * A request nobody listens for is answered 404, an upgrade 400. Proxy trust is carried as for a plain
 * listener (X-Forwarded-* only from trusted peers); `startup` and `shutdown` set on the server are carried
 * over (`server.shutdown = () => io.close()`).
 */
export function fromHttpServer(server: HttpServerLike, options: AdapterOptions = {}): App {
  if (!isHttpServer(server)) throw new NotAnAppError(server, 'a node:http Server (http.createServer())');
  if (server.listening) throw new NotAnAppError(server, 'a node:http Server that is not listening', 'nodicorn listens for it: export the server without calling listen()');
  const trust = options.trustProxy;
  const served: App = {
    handle(req: IncomingMessage, res: ServerResponse) {
      if (trust) normaliseForwarded(req, trust, 'x-forwarded-for');
      if (server.listenerCount('request') > 0) server.emit('request', req, res);
      else res.writeHead(404, { 'content-type': 'text/plain', 'content-length': '9' }).end('Not Found');
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
      if (trust) normaliseForwarded(req, trust, 'x-forwarded-for');
      if (server.listenerCount('upgrade') > 0) server.emit('upgrade', req, socket, head);
      else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    },
  };
  return markRebindable(carryHooks(server, served), options, (o) => fromHttpServer(server, o));
}
