import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { App } from '@nodicorn/adapters';
import { formatAccessLine, type AccessLog } from '../logging/access-log.js';
import type { Logger } from '../logging/error-log.js';
import type { Settings } from '../settings/definitions.js';
import type { QuarantineMessage } from '../protocol.js';
import type { AcceptMode } from '../sockets/accept-mode.js';
import { BACKLOG_DRAIN_MS } from '../sockets/listeners.js';
import type { WorkerServing } from './app-served.js';
import { checkRequest, dropForbiddenTrailers, rejectionResponse } from './request-limits.js';
import { readProxyHeader } from './proxy-protocol.js';
import { compileTrust, parseAllowList } from '../trust.js';
import type { RequestTracker } from './request-tracker.js';
import type { WorkerTls } from '../tls/server-tls.js';

export interface ServeOptions {
  readonly app: App;
  readonly settings: Settings;
  readonly acceptMode: AcceptMode;
  readonly listenFds: readonly number[];
  readonly reusePort: readonly { readonly host: string; readonly port: number }[];
  /** The server's forwarded_allow_ips decision for a peer address. */
  readonly trustProxy: (address: string | undefined) => boolean;
  readonly tracker: RequestTracker;
  readonly log: Logger;
  readonly accessLog: AccessLog | null;
  readonly preRequest?: (req: IncomingMessage) => void;
  readonly postRequest?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Called when a connection closes (the sync class reports itself free to the master). */
  readonly onConnectionClosed?: () => void;
  /** With --certfile/--keyfile: the workers speak HTTPS, with these options (mutual TLS among them). */
  readonly tls?: WorkerTls;
  /** With --metrics-bind or --statsd-host: told of each finished request's status and duration. */
  readonly countRequest?: (status: number, seconds: number) => void;
  /** Called after each finished request, with the total served. */
  readonly onServed?: (served: number) => void;
}

const ERROR_PAGE = 'Internal Server Error\n';
/** How long a --proxy-allow-from peer has to send its PROXY header. */
const PROXY_HEADER_TIMEOUT_MS = 5_000;

function failResponse(res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(ERROR_PAGE), connection: 'close' });
  res.end(ERROR_PAGE);
}

const QUARANTINE_PAGE = 'Service Unavailable: this request timed a worker out; retry later\n';

/** timeout_quarantine's answer: 503 and when to try again (RFC 9110 §10.2.3). */
function refuseQuarantined(res: ServerResponse, remainingMs: number): void {
  res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(QUARANTINE_PAGE), 'retry-after': String(Math.ceil(remainingMs / 1000)) });
  res.end(QUARANTINE_PAGE);
}

/**
 * The HTTP side of a worker: one `node:http` server per inherited listening socket, all sharing one
 * request path that tracks in-flight requests, writes the access log and turns a thrown handler
 * error into a 500 while the worker lives on.
 */
export class WorkerHttp implements WorkerServing {
  readonly servers: http.Server[] = [];
  readonly #connections = new Set<Socket>();
  /** When each connection last started or finished a response: what makes it idle long enough to end. */
  readonly #lastActive = new WeakMap<Socket, number>();
  /** Connections a rejection went out on: whatever else they carry is not run. */
  readonly #rejected = new WeakSet<Socket>();
  /**
   * The responses started on each connection. Node never emits 'close' on a pipelined response still
   * queued behind another when the client goes away, so the connection's own close drops them all
   * from the tracker (else a draining worker reports requests in flight that no one waits for).
   */
  readonly #responsesOn = new WeakMap<Socket, Set<ServerResponse>>();
  #draining = false;
  #othersAccept = false;
  /** Connections still to close after their next response (ShedMessage). */
  #toShed = 0;
  #closeListeners: (() => void) | undefined;
  #onAllClosed: (() => void) | null = null;
  /** `METHOD target` → until when it is answered 503 (timeout_quarantine). */
  readonly #quarantined = new Map<string, number>();

  constructor(private readonly options: ServeOptions) {}

  #onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const { tracker, app, log, accessLog, settings } = this.options;
    // Node parses and hands over requests pipelined behind a rejection; after one nothing on that
    // connection runs, as in Gunicorn (the rejection went out with Connection: close).
    if (this.#rejected.has(req.socket)) {
      res.destroy();
      return;
    }
    const rejection = checkRequest(req, settings, () => this.options.trustProxy(req.socket.remoteAddress));
    if (rejection) {
      const { status, headers, body } = rejectionResponse(rejection);
      log.debug(`Rejected ${req.method} from ${req.socket.remoteAddress ?? 'unix socket'}: ${status} ${rejection.reason}`);
      this.#rejected.add(req.socket);
      res.writeHead(status, headers).end(body);
      return;
    }
    if (req.headers['transfer-encoding'] !== undefined) req.once('end', () => dropForbiddenTrailers(req));
    const info = { method: req.method ?? '-', url: req.url ?? '/', startedAt: Date.now() };
    const { countRequest } = this.options;
    const started = accessLog || countRequest ? process.hrtime.bigint() : 0n;
    const socketBytesBefore = accessLog ? req.socket.bytesWritten : 0;
    tracker.inflight.set(res, info);
    const onSocket = this.#responsesOn.get(req.socket);
    onSocket?.add(res);
    if (this.#draining || settings.workerClass === 'sync' || settings.keepalive === 0) res.setHeader('connection', 'close');
    else if (this.#toShed > 0) {
      this.#toShed--;
      res.setHeader('connection', 'close');
    }
    res.once('close', () => {
      this.#lastActive.set(req.socket, Date.now());
      tracker.inflight.delete(res);
      onSocket?.delete(res);
      tracker.served++;
      if (countRequest) countRequest(res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      if (accessLog) {
        accessLog.append(
          formatAccessLine(settings.accessLogFormat, {
            req,
            res,
            start: new Date(info.startedAt),
            durationNs: process.hrtime.bigint() - started,
            bytesSent: bodyBytes(res, req.socket.bytesWritten - socketBytesBefore),
            pid: process.pid,
          }),
        );
      }
      this.options.postRequest?.(req, res);
      this.options.onServed?.(tracker.served);
    });
    this.options.preRequest?.(req);
    tracker.current = info;
    const fail = (err: unknown) => {
      log.exception(`Error handling request ${info.method} ${info.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      failResponse(res);
    };
    // Almost always empty: no key is built on the hot path unless a timeout put one there.
    const quarantinedMs = this.#quarantined.size ? (this.#quarantined.get(`${info.method} ${info.url}`) ?? 0) - info.startedAt : 0;
    try {
      if (quarantinedMs > 0) refuseQuarantined(res, quarantinedMs);
      else {
        const result = app.handle(req, res);
        if (result && typeof result.then === 'function') result.then(undefined, fail);
      }
    } catch (err) {
      fail(err);
    } finally {
      tracker.current = null;
    }
  };

  #onUpgrade = (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void => {
    const { app, log, settings } = this.options;
    // An upgrade is a request too: the same checks before the app's upgrade handler sees it.
    const rejection = checkRequest(req, settings, () => this.options.trustProxy(req.socket.remoteAddress));
    if (rejection) {
      const { status, headers, body } = rejectionResponse(rejection);
      const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.end(`HTTP/1.1 ${status} ${body.slice(0, body.indexOf(':'))}\r\n${head}\r\n${body}`);
      return;
    }
    if (!app.upgrade) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    try {
      app.upgrade(req, socket, head);
    } catch (err) {
      log.exception(`Error handling upgrade ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      socket.destroy();
    }
  };

  #createServer(): http.Server {
    const { settings } = this.options;
    const create = this.options.tls ? (options: http.ServerOptions, listener: http.RequestListener) => https.createServer({ ...options, ...this.options.tls }, listener) : http.createServer;
    const server = create(
      {
        keepAliveTimeout: Math.max(1, settings.keepalive * 1000),
        // Node's own missing-Host 400 keeps parsing the connection; checkRequest answers it instead.
        requireHostHeader: false,
        requestTimeout: 300_000,
        // Room for the configured limits, which checkRequest enforces with Gunicorn's status codes.
        maxHeaderSize: Math.max(16_384, (settings.limitRequestLine || 8190) + 2 * (settings.limitRequestFieldSize || 8190)),
      },
      this.#onRequest,
    );
    // Node 20 silently drops headers past maxHeadersCount (2000); count them all and let the limit decide.
    server.maxHeadersCount = 0;
    server.maxConnections = settings.workerConnections;
    if (settings.keepaliveRequests > 0) server.maxRequestsPerSocket = settings.keepaliveRequests;
    server.on('upgrade', this.#onUpgrade);
    server.on('connection', (socket: Socket) => {
      this.#connections.add(socket);
      this.#lastActive.set(socket, Date.now());
      this.#responsesOn.set(socket, new Set());
      socket.once('close', () => {
        for (const res of this.#responsesOn.get(socket) ?? []) this.options.tracker.inflight.delete(res);
        this.#responsesOn.delete(socket);
        this.#connections.delete(socket);
        this.options.onConnectionClosed?.();
        if (this.#connections.size === 0) this.#onAllClosed?.();
      });
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Bytes after a rejection that do not parse: the connection is over (the rejection still
      // flushes), they get no answer.
      if (this.#rejected.has(socket as Socket)) {
        socket.end();
        return;
      }
      if (!socket.writable || err.code === 'ECONNRESET') {
        socket.destroy();
        return;
      }
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
    if (settings.proxyProtocol) this.#expectProxyHeader(server);
    this.servers.push(server);
    return server;
  }

  /**
   * --proxy-protocol: a connection from a --proxy-allow-from peer reaches HTTP (or TLS) only after
   * its PROXY header is read and the client it names has replaced the balancer as the peer.
   */
  #expectProxyHeader(server: http.Server): void {
    const allowed = compileTrust(parseAllowList(this.options.settings.proxyAllowIps));
    const handlers = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    const handOn = (socket: Socket) => {
      for (const handler of handlers) handler.call(server, socket);
    };
    server.on('connection', (socket: Socket) => {
      if (!allowed(socket.remoteAddress)) return handOn(socket);
      const from = socket.remoteAddress ?? 'a Unix-socket peer';
      readProxyHeader(socket, PROXY_HEADER_TIMEOUT_MS, handOn, (why) => this.options.log.warning(`Closed a connection from ${from}: ${why} (--proxy-protocol)`));
    });
  }

  #listenOn(target: { fd: number } | { host: string; port: number; reusePort: true }): Promise<void> {
    const server = this.#createServer();
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // `fd` and `reusePort` (Node >= 22.12, checked by the master) are listen options @types/node 20 lacks.
      server.listen({ ...target, backlog: this.options.settings.backlog } as net.ListenOptions, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Starts accepting as the accept mode says: on inherited sockets, own SO_REUSEPORT ones, or from the master. */
  async listen(): Promise<void> {
    for (const fd of this.options.listenFds) await this.#listenOn({ fd });
    for (const { host, port } of this.options.reusePort) await this.#listenOn({ host, port, reusePort: true });
    if (this.options.acceptMode === 'master') {
      const server = this.#createServer();
      process.on('message', (message: { type?: string }, handle: unknown) => {
        if (message?.type !== 'connection' || !(handle instanceof net.Socket)) return;
        server.emit('connection', handle);
        handle.resume();
      });
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
    // On a full stop, accept a moment longer before closing the listeners: the master has already
    // unlinked the Unix socket paths (no new connection can arrive), and what still waits in the
    // backlog would be reset when the last descriptor closes. Each is served with Connection: close.
    // A worker retired while the others serve on (a reload, a recycle) stops accepting at once.
    // net.Server's close stops accepting without http.Server's eager closeIdleConnections().
    const listenersClosed = new Promise<void>((resolve) => {
      const close = () => {
        clearTimeout(timer);
        this.#closeListeners = undefined;
        for (const server of this.servers) if (server.listening) net.Server.prototype.close.call(server);
        resolve();
      };
      const timer = setTimeout(close, this.#othersAccept ? 0 : BACKLOG_DRAIN_MS);
      this.#closeListeners = close;
    });
    // A socket idle for a whole keep-alive period is safe to end: a client reusing it would have sent
    // by now. Ending sockets idle for less races with a client sending its next request.
    const idleMs = Math.max(100, this.options.settings.keepalive * 1000);
    const idleSweep = setInterval(() => {
      const busy = this.#busySockets();
      const now = Date.now();
      for (const socket of this.#connections) if (!busy.has(socket) && now - (this.#lastActive.get(socket) ?? 0) >= idleMs) socket.end();
    }, Math.min(250, idleMs));
    idleSweep.unref();
    return listenersClosed.then(
      () =>
        new Promise<void>((resolve) => {
          const done = () => {
            clearInterval(idleSweep);
            resolve();
          };
          if (this.#connections.size === 0) done();
          else this.#onAllClosed = done;
        }),
    );
  }

  get served(): number {
    return this.options.tracker.served;
  }

  get inflight(): number {
    return this.options.tracker.inflight.size;
  }

  /** Open client connections: the master balances them across workers. */
  get openConnections(): number {
    return this.#connections.size;
  }

  /** The master says this worker holds `count` connections more than its share (see ShedMessage). */
  shed(count: number): void {
    this.#toShed = count;
  }

  /** timeout_quarantine: the master says this request just timed a worker out. */
  quarantine(message: QuarantineMessage): void {
    const now = Date.now();
    for (const [key, until] of this.#quarantined) if (until <= now) this.#quarantined.delete(key);
    this.#quarantined.set(`${message.method} ${message.url}`, message.until);
  }

  /**
   * The master retires this worker while the others keep accepting on the same sockets: nothing
   * would wait in the backlog unserved, so the drain closes the listeners at once (the master's
   * message and its TERM may arrive in either order).
   */
  othersKeepAccepting(): void {
    this.#othersAccept = true;
    this.#closeListeners?.();
  }

  #busySockets(): Set<unknown> {
    return new Set([...this.options.tracker.inflight.keys()].map((res) => res.socket));
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
