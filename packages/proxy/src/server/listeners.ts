import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ProxyError } from '../errors.js';
import { rejectConnection } from '../flow/connection-queue.js';
import type { ProxyApp } from '../proxy-app.js';
import { formatListen, type ListenSpec } from '../settings/addresses.js';
import type { ProxySettings } from '../settings/definitions.js';
import type { TlsMaterial } from '../tls/certificates.js';
import { TLS_SECURE_OPTIONS } from '../tls/hardening.js';

export interface BoundListener {
  readonly spec: ListenSpec;
  readonly server: http.Server | https.Server;
  /** The address as bound (port 0 resolved), e.g. `https://127.0.0.1:8443`. */
  readonly url: string;
  readonly port: number;
}

/** One http or https server whose handlers are the proxy app's, with nginx-like client limits. */
export function createListener(spec: ListenSpec, app: ProxyApp, settings: ProxySettings, tls: TlsMaterial | null): http.Server | https.Server {
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
  const server =
    spec.scheme === 'https'
      ? https.createServer({
          ...options,
          cert: tls!.cert,
          key: tls!.key,
          minVersion: 'TLSv1.2',
          ALPNProtocols: ['http/1.1'],
          secureOptions: TLS_SECURE_OPTIONS,
          // nginx bounds the handshake by client_header_timeout; Node's default is 120 s.
          handshakeTimeout: settings.clientHeaderTimeout * 1000,
        })
      : http.createServer(options);
  server.maxHeadersCount = 0;
  server.on('request', app.handle);
  server.on('upgrade', app.upgrade);
  server.on('checkContinue', app.checkContinue);
  // TLS sockets whose handshake completed. https.Server re-emits TLS errors (handshake timeout, a
  // bad or partial ClientHello) as 'clientError' on a socket that never became secure: an HTTP
  // answer written there is never flushed, so the socket would be held forever (issue 11 item 5).
  const secured = new WeakSet<object>();
  if (spec.scheme === 'https') server.on('secureConnection', (socket) => secured.add(socket));
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Node's default, minus nothing: a parse error gets a bare 400 (431 for oversized headers), a
    // reset or timeout just closes. It must never throw.
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    if (spec.scheme === 'https' && !secured.has(socket)) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // Destroyed once written, as Node's default handler does: the HTTP server keeps sockets
    // half-open, so a peer that never answers our FIN (a slowloris) would otherwise keep it.
    // Requests parsed before the bad one are answered first, then this, then nothing more.
    rejectConnection(socket, `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  return server;
}

export function listen(server: http.Server, spec: ListenSpec): Promise<BoundListener> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new ProxyError('ERR_PROXY_LISTEN', `Cannot listen on ${formatListen(spec.scheme, spec.host, spec.port)} (${err.code ?? err.message}); pick another --listen address or stop what holds it.`, 2));
    };
    server.once('error', onError);
    server.listen({ port: spec.port, host: spec.host, backlog: 2048 }, () => {
      server.off('error', onError);
      const port = (server.address() as AddressInfo).port;
      resolve({ spec, server, port, url: formatListen(spec.scheme, spec.host, port) });
    });
  });
}
