import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { App } from '@nodicorn/adapters';
import { formatAccessLine, type AccessLog } from '../logging/access-log.js';
import type { Logger } from '../logging/error-log.js';
import type { RequestTracker } from './request-tracker.js';

export interface ServeOptions {
  readonly app: App;
  readonly listenFds: readonly number[];
  readonly backlog: number;
  readonly keepalive: number;
  readonly tracker: RequestTracker;
  readonly log: Logger;
  readonly accessLog: AccessLog | null;
  readonly accessLogFormat: string;
  /** Called after each finished request, with the total served. */
  readonly onServed?: (served: number) => void;
}

const ERROR_PAGE = 'Internal Server Error\n';

function failResponse(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(ERROR_PAGE), connection: 'close' });
  res.end(ERROR_PAGE);
}

/**
 * The HTTP side of a worker: one `node:http` server per inherited listening socket, all sharing one
 * request path that tracks in-flight requests, writes the access log and turns a thrown handler
 * error into a 500 while the worker lives on.
 */
export class WorkerHttp {
  readonly servers: http.Server[] = [];
  #draining = false;

  constructor(private readonly options: ServeOptions) {}

  #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const { tracker, app, log, accessLog } = this.options;
    const info = { method: req.method ?? '-', url: req.url ?? '/', startedAt: Date.now() };
    const started = accessLog ? process.hrtime.bigint() : 0n;
    const socketBytesBefore = accessLog ? req.socket.bytesWritten : 0;
    tracker.inflight.set(res, info);
    if (this.#draining || this.options.keepalive === 0) res.setHeader('connection', 'close');
    res.once('close', () => {
      tracker.inflight.delete(res);
      tracker.served++;
      if (accessLog) {
        accessLog.append(
          formatAccessLine(this.options.accessLogFormat, {
            req,
            res,
            start: new Date(info.startedAt),
            durationNs: process.hrtime.bigint() - started,
            bytesSent: bodyBytes(res, req.socket.bytesWritten - socketBytesBefore),
            pid: process.pid,
          }),
        );
      }
      this.options.onServed?.(tracker.served);
    });
    tracker.current = info;
    const fail = (err: unknown) => {
      log.error(`Error handling request ${info.method} ${info.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      failResponse(res);
    };
    try {
      const result = app.handle(req, res);
      if (result && typeof result.then === 'function') result.then(undefined, fail);
    } catch (err) {
      fail(err);
    } finally {
      tracker.current = null;
    }
  };

  #onUpgrade = (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void => {
    const { app, log } = this.options;
    if (!app.upgrade) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    try {
      app.upgrade(req, socket, head);
    } catch (err) {
      log.error(`Error handling upgrade ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      socket.destroy();
    }
  };

  async listen(): Promise<void> {
    for (const fd of this.options.listenFds) {
      const server = http.createServer(
        { keepAliveTimeout: Math.max(1, this.options.keepalive * 1000), requestTimeout: 300_000 },
        this.#onRequest,
      );
      server.on('upgrade', this.#onUpgrade);
      server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
        if (!socket.writable || err.code === 'ECONNRESET') {
          socket.destroy();
          return;
        }
        const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
        socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ fd, backlog: this.options.backlog }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
    }
  }

  /**
   * Graceful drain, as Gunicorn's graceful stop: stop accepting, let in-flight requests finish with
   * `Connection: close`, and let idle keep-alive sockets end at their keep-alive timeout (closing them
   * at once races with a client that is just sending its next request). Resolves when every
   * connection is gone.
   */
  drain(): Promise<void> {
    this.#draining = true;
    for (const res of this.options.tracker.inflight.keys()) {
      if (!res.headersSent) res.setHeader('connection', 'close');
    }
    const closed = this.servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          // net.Server's close stops accepting without http.Server's eager closeIdleConnections().
          net.Server.prototype.close.call(server, () => resolve());
        }),
    );
    // Idle sockets past one keep-alive period are safe to end: a client reusing them would have sent by now.
    const idleSweep = setInterval(() => this.servers.forEach((s) => s.closeIdleConnections()), Math.max(100, this.options.keepalive * 1000));
    idleSweep.unref();
    return Promise.all(closed).then(() => clearInterval(idleSweep));
  }
}

/**
 * Body bytes sent, for the %(b)s atom: the declared length when there is one, else what went out on
 * the socket for this response less its header block (Node counts both together).
 */
function bodyBytes(res: ServerResponse, socketBytes: number): number {
  const length = res.getHeader('content-length');
  if (length !== undefined) return Number(length) || 0;
  const headerBlock = (res as unknown as { _header?: string | null })._header;
  return Math.max(0, socketBytes - (headerBlock ? Buffer.byteLength(headerBlock) : 0));
}
