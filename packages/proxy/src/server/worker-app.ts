import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ProxyError } from '../errors.js';
import { muteBrokenStdio } from '@nodicorn/settings';
import { createLogger } from '../logging/error-log.js';
import { Certificates } from '../tls/certificates.js';
import { ListenerTls } from '../tls/listener-tls.js';
import { drainProxy } from './drain.js';
import { createProxyInstance, openListeners } from './proxy-instance.js';
import { PROXY_WORKER_ENV, decodeWorkerPlan } from './worker-plan.js';

/** What nodicorn's worker reports and drains (the server's AppServer, by shape: the proxy imports nothing of the server). */
export interface ProxyWorkerServer {
  readonly requests: number;
  readonly connections: number;
  readonly inflight: number;
  drain(options: { readonly gracefulTimeoutMs: number; readonly othersServe: boolean }): Promise<void>;
  reopenLogs(): void;
}

/** The proxy as the App of one nodicorn worker. */
export interface ProxyWorkerApp {
  handle(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  serve(sockets: readonly { fd: number }[]): Promise<ProxyWorkerServer>;
}

/**
 * The entry `nodicorn proxy --workers N` gives its master (`…/index.js:createProxyApp()`): one
 * proxy per worker, built from the plan the master resolved, serving its own http, https and
 * HTTP/2 servers on the listening sockets the worker inherited (App.serve), so TLS, ALPN, the
 * redirect, the access log and the HTTP/2 GOAWAY drain are the standalone proxy's own.
 */
export function createProxyApp(): ProxyWorkerApp {
  const plan = decodeWorkerPlan(process.env[PROXY_WORKER_ENV]);
  delete process.env[PROXY_WORKER_ENV];
  const log = createLogger();
  const instance = createProxyInstance(plan.config, log);
  const { app, accessLog, listeners } = instance;
  let requests = 0;
  let inflight = 0;
  let connections = 0;
  return {
    handle: app.handle,
    upgrade: app.upgrade,
    async serve(sockets) {
      if (sockets.length !== plan.sockets.length) {
        throw new ProxyError('ERR_PROXY_WORKER', `This worker inherited ${sockets.length} listening socket(s) but its plan has ${plan.sockets.length}: the master and the plan disagree.`);
      }
      muteBrokenStdio();
      const tls = plan.tls ? new ListenerTls(await Certificates.load(plan.config, plan.tls), plan.config.settings.tlsVerifyClient) : null;
      await openListeners(instance, plan.sockets, tls, log, sockets);
      for (const { server } of listeners) {
        server.on('connection', (socket: Socket) => {
          connections++;
          socket.once('close', () => connections--);
        });
        server.on('request', (_req: unknown, res: ServerResponse) => {
          requests++;
          inflight++;
          res.once('close', () => inflight--);
        });
      }
      return {
        get requests() {
          return requests;
        },
        get connections() {
          return connections;
        },
        get inflight() {
          return inflight;
        },
        // Retired while the others serve on: kept-alive connections end after their next response
        // (Connection: close), never closed idle under a client sending on one. Stopping with the
        // master: as the one process stops.
        drain: ({ gracefulTimeoutMs, othersServe }) => drainProxy({ listeners, app, accessLog, log, gracefulTimeoutMs, closeIdle: !othersServe }),
        reopenLogs: () => accessLog.reopen(),
      };
    },
  };
}
