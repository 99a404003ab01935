import type { Server as TlsServer } from 'node:tls';
import { muteBrokenStdio } from '@nodicorn/settings';
import type { ProxyApp } from '../proxy-app.js';
import type { ProxyLogger } from '../logging/error-log.js';
import type { ProxyConfig } from '../settings/resolve.js';
import { Certificates } from '../tls/certificates.js';
import { ListenerTls } from '../tls/listener-tls.js';
import { logTlsAndRoutes } from './banner.js';
import { drainProxy } from './drain.js';
import type { BoundListener } from './listeners.js';
import { createProxyInstance, openListeners } from './proxy-instance.js';

export interface RunningProxy {
  readonly app: ProxyApp;
  readonly listeners: readonly BoundListener[];
  /** Re-reads config and certificates; listeners and open connections stay as they are. */
  reload(next: ProxyConfig): Promise<void>;
  /** USR1: reopen the access log, as nginx does for logrotate. */
  reopenLogs(): void;
  /** Stops accepting, lets in-flight requests finish (up to graceful_timeout), then closes the rest. */
  shutdown(): Promise<void>;
}

/** Starts the proxy as one standalone process: binds every --listen, then serves. */
export async function runProxy(config: ProxyConfig, log: ProxyLogger): Promise<RunningProxy> {
  muteBrokenStdio();
  const needsTls = config.listeners.some((l) => l.scheme === 'https');
  const tls = needsTls ? new ListenerTls(await Certificates.load(config), config.settings.tlsVerifyClient) : null;
  const instance = createProxyInstance(config, log);
  const { app, accessLog, listeners: bound } = instance;
  await openListeners(instance, config.listeners, tls, log);
  for (const l of bound) log.info(`Listening at: ${l.url}`);
  logTlsAndRoutes(config, tls?.certificates.primary ?? null, bound.find((l) => l.spec.scheme === 'https')?.url, log);

  let stopping: Promise<void> | null = null;
  return {
    app,
    listeners: bound,
    reopenLogs() {
      accessLog.reopen();
      log.info('Reopened the access log (USR1)');
    },
    async reload(next) {
      const same = JSON.stringify(next.listeners) === JSON.stringify(config.listeners);
      if (!same) log.warning('Reload: --listen changes take effect on restart; keeping the current listeners.');
      if (tls) {
        if (next.settings.tlsVerifyClient !== tls.verifyClient) log.warning('Reload: --tls-verify-client changes take effect on restart; keeping the current one.');
        // Loaded whole before anything changes: a missing or bad file throws (naming it) and the
        // running certificates and config stay.
        const certs = await Certificates.load(next);
        tls.replace(certs, bound.filter((l) => l.spec.scheme === 'https').map((l) => l.server as TlsServer));
      }
      await app.reload(next);
      log.info('Reloaded configuration and certificates.');
    },
    shutdown() {
      stopping ??= drainProxy({ listeners: bound, app, accessLog, log, gracefulTimeoutMs: config.settings.gracefulTimeout * 1000, closeIdle: true });
      return stopping;
    },
  };
}
