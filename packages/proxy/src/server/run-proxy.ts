import { ProxyApp } from '../proxy-app.js';
import { AccessLogWriter } from '../logging/access-log.js';
import { muteBrokenStdio } from '@nodicorn/settings';
import { rateLimited, type ProxyLogger } from '../logging/error-log.js';
import type { ProxyConfig } from '../settings/resolve.js';
import { describeUpstream } from '../settings/upstreams.js';
import { loadTls, type TlsMaterial } from '../tls/certificates.js';
import { closeAll, closeIdle, createListener, listen, stopAccepting, type BoundListener } from './listeners.js';
import { TLS_SECURE_OPTIONS } from '../tls/hardening.js';

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

function banner(listeners: readonly BoundListener[], tls: TlsMaterial | null, log: ProxyLogger): void {
  for (const l of listeners) log.info(`Listening at: ${l.url}`);
  const httpsUrl = listeners.find((l) => l.spec.scheme === 'https')?.url.replace(/\/\/(127\.0\.0\.1|0\.0\.0\.0|\[::1?\])/, '//localhost');
  if (tls?.selfSigned) {
    const c = tls.selfSigned;
    log.info(`TLS: ${c.generated ? 'generated a' : 'using the'} self-signed development certificate ${c.certPath} (a leaf, not a CA: valid only for localhost, 127.0.0.1, ::1, until ${c.validTo.toISOString().slice(0, 10)})`);
    log.info(`TLS: to trust it (its key cannot sign for any other name), NODE_EXTRA_CA_CERTS=${c.certPath} node ...  or  curl --cacert ${c.certPath} ${httpsUrl ?? 'https://localhost:PORT'}/`);
  } else if (tls) {
    log.info(`TLS: certificate ${tls.certPath}`);
  }
}

const UPSTREAM_ERRORS_PER_SECOND = 10;

/** Starts the proxy as one standalone process: binds every --listen, then serves. */
export async function runProxy(config: ProxyConfig, log: ProxyLogger): Promise<RunningProxy> {
  muteBrokenStdio();
  const needsTls = config.listeners.some((l) => l.scheme === 'https');
  let tls = needsTls ? await loadTls(config.settings, config.cwd) : null;
  const accessLog = new AccessLogWriter(config.settings.accessLog);
  const bound: BoundListener[] = [];
  // nginx logs every failed upstream try at error level; ten a second is enough to explain a burst.
  const errorLog = rateLimited((m) => log.error(m), UPSTREAM_ERRORS_PER_SECOND);
  const app = new ProxyApp(config, { accessLog, errorLog, healthLog: (m) => log.warning(m), httpsPort: () => bound.find((l) => l.spec.scheme === 'https')?.port });
  try {
    for (const spec of config.listeners) bound.push(await listen(createListener(spec, app, config.settings, tls, (m) => log.warning(m)), spec));
  } catch (err) {
    for (const l of bound) l.server.close();
    await app.close();
    throw err;
  }
  banner(bound, tls, log);
  for (const r of config.routes) log.info(`Route ${r.prefix} -> ${r.kind === 'static' ? `static ${r.dir}` : `${r.upstream} (${describeUpstream(config.upstreams.get(r.upstream)!)})`}`);

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
      if (needsTls) {
        tls = await loadTls(next.settings, next.cwd);
        for (const l of bound) if (l.spec.scheme === 'https') (l.server as import('node:tls').Server).setSecureContext({ cert: tls.cert, key: tls.key, secureOptions: TLS_SECURE_OPTIONS });
      }
      await app.reload(next);
      log.info('Reloaded configuration and certificates.');
    },
    shutdown() {
      stopping ??= (async () => {
        app.drain();
        // Idle keep-alive connections close now; busy ones close after their response (Connection:
        // close); HTTP/2 connections get GOAWAY and close once their open streams are done.
        const closed = Promise.all(bound.map(stopAccepting));
        const sweep = setInterval(() => bound.forEach(closeIdle), 100);
        const graceMs = config.settings.gracefulTimeout * 1000;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)));
        const late = await Promise.race([closed.then(() => false), timedOut]);
        clearTimeout(timer);
        clearInterval(sweep);
        if (late) {
          log.warning(`Graceful timeout (${config.settings.gracefulTimeout}s): closing the connections still open.`);
          bound.forEach(closeAll);
        }
        await app.close();
        await accessLog.close();
      })();
      return stopping;
    },
  };
}
