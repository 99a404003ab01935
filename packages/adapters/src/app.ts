import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The app callable: what every nodicorn worker serves (our WSGI).
 *
 * Node's own request-listener signature is the request interface, so frameworks built on `node:http`
 * (Express, Koa) run with no translation; fetch-style apps (Hono, `(Request) => Response`) are bridged
 * by `fromFetch`/`fromHono`. A module may export an App directly, or any shape `toApp` recognises.
 *
 * The contract, per worker process:
 *
 * 1. The worker imports the module and turns its export into an App (`toApp`).
 * 2. `startup()` runs once and is awaited before the worker accepts its first connection. If it throws
 *    or rejects, the worker fails to boot (exit 3) and, as in Gunicorn, a worker that never became
 *    ready halts the master.
 * 3. `handle(req, res)` runs once per HTTP request, `upgrade(req, socket, head)` once per request that
 *    carries `Connection: Upgrade` (WebSocket). Both may return before the response is finished; the
 *    request is over when `res` emits `close`.
 * 4. On a graceful stop (TERM, reload, max_requests) the worker stops accepting, lets in-flight
 *    requests finish within graceful_timeout, then awaits `shutdown()` once and exits. A fast stop
 *    (INT, QUIT) or a timeout kill does not run `shutdown`.
 */
export interface App {
  /**
   * Handle one HTTP request by writing `res`. An error thrown synchronously, or a rejection of the
   * promise an async handler returns, becomes a 500 (or, once headers are out, a destroyed socket)
   * and the worker lives on. A failure in a callback the handler does not return (a timer, an
   * un-awaited promise) is an uncaught error, which ends the worker; its master replaces it.
   */
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  /**
   * Handle an HTTP `Upgrade` request (a WebSocket handshake): the raw socket and the bytes read past
   * the headers are the App's. Without `upgrade`, the server answers 400 and closes. An App usually
   * hands these to `ws`: `wss.handleUpgrade(req, socket, head, (ws) => …)` on a `noServer` server.
   */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Runs once per worker after the app is loaded and before the worker accepts. Throwing fails the boot. */
  startup?(): void | Promise<void>;
  /** Runs once per worker after in-flight requests drained on a graceful stop. Errors are logged. */
  shutdown?(): void | Promise<void>;
  /**
   * An App that makes its own servers (the proxy: TLS, HTTP/2 by ALPN, its own limits) instead of
   * the worker's `node:http` one. After `startup()`, the worker hands it the listening sockets it
   * inherited from the master (shared accept only) and reports what the returned AppServer counts.
   * `handle` and `upgrade` are then the App's own business.
   */
  serve?(sockets: readonly InheritedSocket[]): Promise<AppServer>;
}

/** A listening socket the master bound and the worker inherited. */
export interface InheritedSocket {
  readonly fd: number;
}

/** What an App that serves its own connections gives the worker to report and to drain. */
export interface AppServer {
  /** Requests served so far (status, max_requests). */
  readonly requests: number;
  /** Client connections open now. */
  readonly connections: number;
  /** Requests in flight now. */
  readonly inflight: number;
  /**
   * Graceful stop: stop accepting at once, let what is in flight finish, and resolve once every
   * connection is gone or `gracefulTimeoutMs` cut the rest. `othersServe` when this worker is retired
   * while the others accept on (reload, TTOU, max_requests): then kept-alive connections should end
   * after their next response rather than be closed idle, which races with a client just sending on
   * one. On a full stop nothing else will serve them, and idle ones may close at once.
   */
  drain(options: { readonly gracefulTimeoutMs: number; readonly othersServe: boolean }): Promise<void>;
  /** USR1: reopen the App's own log files. */
  reopenLogs?(): void;
}

/** Node's `http.createServer` request listener (an async one too): the shape of a plain Node app. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * What the server tells an adapter about its environment.
 *
 * `trustProxy` is the server's forwarded_allow_ips decision for one address: `undefined` stands for a
 * Unix-socket peer. Adapters carry it into the framework (Express `trust proxy`, Koa `app.proxy` plus
 * stripping of X-Forwarded-* from untrusted peers, `clientInfo()` for fetch apps), so an app behind a
 * trusted proxy sees the client's address and scheme, and one behind an untrusted peer does not.
 *
 * Without `trustProxy` (an adapter used outside nodicorn, say) adapters leave the framework's own
 * proxy settings alone and `clientInfo()` trusts no forwarded header.
 */
export interface AdapterOptions {
  readonly trustProxy?: (address: string | undefined) => boolean;
}
