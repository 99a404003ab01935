import { AccessLogWriter } from '../logging/access-log.js';
import { rateLimited, type ProxyLogger } from '../logging/error-log.js';
import { ProxyApp } from '../proxy-app.js';
import type { ListenSpec } from '../settings/addresses.js';
import type { ProxyConfig } from '../settings/resolve.js';
import type { ListenerTls } from '../tls/listener-tls.js';
import { createListener, listen, type BoundListener } from './listeners.js';

/** One proxy process's serving parts: the app, its access log and the listeners it accepts on. */
export interface ProxyInstance {
  readonly app: ProxyApp;
  readonly accessLog: AccessLogWriter;
  readonly listeners: BoundListener[];
}

const UPSTREAM_ERRORS_PER_SECOND = 10;

export function createProxyInstance(config: ProxyConfig, log: ProxyLogger): ProxyInstance {
  const accessLog = new AccessLogWriter(config.settings.accessLog);
  const listeners: BoundListener[] = [];
  // nginx logs every failed upstream try at error level; ten a second is enough to explain a burst.
  const errorLog = rateLimited((m) => log.error(m), UPSTREAM_ERRORS_PER_SECOND);
  const app = new ProxyApp(config, { accessLog, errorLog, healthLog: (m) => log.warning(m), httpsPort: () => listeners.find((l) => l.spec.scheme === 'https')?.port });
  return { app, accessLog, listeners };
}

/**
 * Starts every listener: bound to its --listen address, or (under the master) accepting on the
 * inherited socket at the same index. On a failure the ones already started are closed again.
 */
export async function openListeners(instance: ProxyInstance, specs: readonly ListenSpec[], tls: ListenerTls | null, log: ProxyLogger, inherited?: readonly { fd: number }[]): Promise<void> {
  const { app, listeners } = instance;
  const settings = app.config.settings;
  try {
    for (const [i, spec] of specs.entries()) listeners.push(await listen(createListener(spec, app, settings, tls, (m) => log.warning(m)), spec, inherited?.[i]));
  } catch (err) {
    for (const l of listeners) l.server.close();
    await app.close();
    throw err;
  }
}
