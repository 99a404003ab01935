import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { ProxyError } from '../errors.js';
import { rejectConnection } from '../flow/connection-queue.js';
import { rawErrorResponse } from '../error-page.js';
import { Http2Sessions } from '../http2/sessions.js';
import type { ProxyApp } from '../proxy-app.js';
import { formatListen, type ListenSpec } from '../settings/addresses.js';
import type { ProxySettings } from '../settings/definitions.js';
import type { ListenerTls } from '../tls/listener-tls.js';

export type ListenerServer = http.Server | https.Server | http2.Http2SecureServer;

/** A listener before it is bound: its server, and its HTTP/2 connections when it speaks h2. */
export interface Listener {
  readonly server: ListenerServer;
  readonly sessions: Http2Sessions | null;
}

export interface BoundListener extends Listener {
  readonly spec: ListenSpec;
  /** The address as bound (port 0 resolved), e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  readonly port: number;
}

/** Reset streams are counted over this window for --http2-max-resets. */
const RESET_WINDOW_MS = 10_000;

/** One http or https server whose handlers are the proxy app's, with nginx-like client limits. */
export function createListener(spec: ListenSpec, app: ProxyApp, settings: ProxySettings, tls: ListenerTls | null, onAbuse: (message: string) => void = () => {}): Listener {
  const options: http.ServerOptions = {
    // client_header_timeout: slow senders (slowloris) lose their connection, checked every second
    // rather than Node's default 30 s sweep.
    headersTimeout: settings.clientHeaderTimeout * 1000,
    requestTimeout: Math.max(settings.clientHeaderTimeout, settings.clientBodyTimeout) * 1000,
    connectionsCheckingInterval: 1000,
    keepAliveTimeout: settings.keepaliveTimeout * 1000,
    noDelay: true,
    // Strict parsing is the smuggling defence: CL+TE, duplicate CL, obs-fold and bad chunking are
    // rejected with 400 by llhttp before the proxy ever sees a request.
    insecureHTTPParser: false,
    // Node's own missing-Host 400 keeps parsing the connection behind it; the proxy's check
    // (flow/request-checks.ts) refuses it and then reads nothing more (RFC 9112 §3.2).
    requireHostHeader: false,
  };
  const tlsOptions = tls?.serverOptions(settings.clientHeaderTimeout * 1000) ?? {};
  let sessions: Http2Sessions | null = null;
  let server: ListenerServer;
  if (spec.scheme === 'https' && settings.httpProtocols.includes('h2')) {
    const h2 = createHttp2Server(options, tlsOptions, settings);
    sessions = new Http2Sessions(h2, { idleTimeoutMs: settings.keepaliveTimeout * 1000, maxResets: settings.http2MaxResets, resetWindowMs: RESET_WINDOW_MS }, (peer, resets) =>
      onAbuse(`HTTP/2 client ${peer} reset ${resets} streams within ${RESET_WINDOW_MS / 1000}s (rapid reset, CVE-2023-44487): connection closed with GOAWAY ENHANCE_YOUR_CALM`),
    );
    server = h2;
  } else {
    server = spec.scheme === 'https' ? https.createServer({ ...options, ...tlsOptions, ALPNProtocols: ['http/1.1'] }) : http.createServer(options);
    server.maxHeadersCount = 0;
  }
  // One handler for both protocols: an h2 stream arrives as http2's compatibility request and
  // response (http2/request.ts names the differences the proxy minds).
  server.on('request', app.handle as (req: unknown, res: unknown) => void);
  server.on('upgrade', app.upgrade);
  server.on('checkContinue', app.checkContinue as (req: unknown, res: unknown) => void);
  // TLS sockets whose handshake completed. https.Server re-emits TLS errors (handshake timeout, a
  // bad or partial ClientHello) as 'clientError' on a socket that never became secure: an HTTP
  // answer written there is never flushed, so the socket would be held forever (issue 11 item 5).
  const secured = new WeakSet<object>();
  if (spec.scheme === 'https') server.on('secureConnection', (socket) => secured.add(socket));
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // As Node's default, with the proxy's error page as nginx sends its own: a parse error gets
    // 400 (431 for oversized headers), a reset just closes. It must never throw.
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    if (spec.scheme === 'https' && !secured.has(socket)) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    // Destroyed once written, as Node's default handler does: the HTTP server keeps sockets
    // half-open, so a peer that never answers our FIN (a slowloris) would otherwise keep it.
    // Requests parsed before the bad one are answered first, then this, then nothing more.
    rejectConnection(socket, rawErrorResponse(status));
  });
  return { server, sessions };
}

/**
 * An https listener that speaks h2 and, with `http/1.1` in --http-protocols, HTTP/1.1 by ALPN
 * (nginx `listen 443 ssl; http2 on;`). HTTP/1.1 connections on it are served by Node's own HTTP/1
 * connection handling, which reads its limits from the server object, so they are set there to
 * the same values the plain https listener takes as options.
 */
function createHttp2Server(options: http.ServerOptions, tlsOptions: object, settings: ProxySettings): http2.Http2SecureServer {
  const server = http2.createSecureServer({
    ...tlsOptions,
    allowHTTP1: settings.httpProtocols.includes('http/1.1'),
    settings: {
      maxConcurrentStreams: settings.http2MaxConcurrentStreams,
      // The same bound as an HTTP/1.1 request head (Node's --max-http-header-size, 16 KiB).
      maxHeaderListSize: http.maxHeaderSize,
    },
    // Room above --max-headers for the pseudo-headers, so the proxy answers 431 itself.
    maxHeaderListPairs: Math.max(128, settings.maxHeaders + 8),
  });
  Object.assign(server, {
    headersTimeout: options.headersTimeout,
    requestTimeout: options.requestTimeout,
    connectionsCheckingInterval: options.connectionsCheckingInterval,
    keepAliveTimeout: options.keepAliveTimeout,
    insecureHTTPParser: false,
    requireHostHeader: false,
    maxHeadersCount: 0,
  });
  server.on('secureConnection', (socket: import('node:tls').TLSSocket) => socket.setNoDelay(true));
  return server;
}

/**
 * Graceful stop, first step: stop accepting, and HTTP/2 connections get GOAWAY. Idle HTTP/1.1
 * connections close now when `closeIdleNow` (the one process is going away); a worker retired while
 * others serve on leaves them to end after their next response (Connection: close), because
 * closing an idle connection races with a client that is just sending on it: net.Server's close
 * stops accepting without http.Server's eager closeIdleConnections().
 */
export function stopAccepting(l: BoundListener, closeIdleNow = true): Promise<void> {
  const closed = new Promise<void>((r) => (closeIdleNow ? l.server.close(() => r()) : net.Server.prototype.close.call(l.server, () => r())));
  l.sessions?.goAway();
  if (closeIdleNow) closeIdle(l);
  return closed;
}

/**
 * Http2SecureServer has no closeAllConnections and only a guarded closeIdleConnections, but with
 * allowHTTP1 it tracks its HTTP/1.1 connections as http.Server does (both methods return at once
 * when nothing is tracked), so http's own methods are applied to it.
 */
const h1 = http.Server.prototype;

export function closeIdle(l: BoundListener): void {
  h1.closeIdleConnections.call(l.server as http.Server);
}

/** Past the graceful timeout: every connection left is cut. */
export function closeAll(l: BoundListener): void {
  l.sessions?.destroyAll();
  h1.closeAllConnections.call(l.server as http.Server);
}

/**
 * Binds a listener to its --listen address, or, under nodicorn's master, starts accepting on the
 * listening socket `fd` the master bound for that address and the worker inherited.
 */
export function listen({ server, sessions }: Listener, spec: ListenSpec, inherited?: { fd: number }): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = formatListen(spec.scheme, spec.host, spec.port);
      reject(new ProxyError('ERR_PROXY_LISTEN', inherited ? `Cannot accept on the master's socket for ${where} (fd ${inherited.fd}: ${err.code ?? err.message}).` : `Cannot listen on ${where} (${err.code ?? err.message}); pick another --listen address or stop what holds it.`, 2));
    };
    server.once('error', onError);
    // `fd` is a listen option @types/node 20 lacks.
    server.listen((inherited ?? { port: spec.port, host: spec.host, backlog: 2048 }) as net.ListenOptions, () => {
      server.off('error', onError);
      const port = (server.address() as AddressInfo).port;
      resolve({ spec, server, sessions, port, url: formatListen(spec.scheme, spec.host, port) });
    });
  });
}
