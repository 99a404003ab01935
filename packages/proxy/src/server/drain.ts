import type { ProxyApp } from '../proxy-app.js';
import type { AccessLogWriter } from '../logging/access-log.js';
import type { ProxyLogger } from '../logging/error-log.js';
import { closeAll, closeIdle, stopAccepting, type BoundListener } from './listeners.js';

export interface DrainPlan {
  readonly listeners: readonly BoundListener[];
  readonly app: ProxyApp;
  readonly accessLog: AccessLogWriter;
  readonly log: ProxyLogger;
  readonly gracefulTimeoutMs: number;
  /**
   * A proxy that stops (the one process, or every worker with their master) closes idle keep-alive
   * connections at once and every 100 ms while it drains: nothing else will serve their next
   * request anyway. A worker retired while the others serve on leaves them to their next response,
   * which says Connection: close, so a client sending on one just then is answered, not reset.
   */
  readonly closeIdle: boolean;
}

/**
 * Graceful stop: stop accepting, let in-flight requests finish (HTTP/1.1 responses close their
 * connection, HTTP/2 connections get GOAWAY and close once their open streams are done), cut what
 * is left at the graceful timeout, then close the upstream pools and the access log.
 */
export async function drainProxy(plan: DrainPlan): Promise<void> {
  const { listeners, app, log } = plan;
  app.drain();
  const closed = Promise.all(listeners.map((l) => stopAccepting(l, plan.closeIdle)));
  const sweep = plan.closeIdle ? setInterval(() => listeners.forEach(closeIdle), 100) : undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), plan.gracefulTimeoutMs)));
  const late = await Promise.race([closed.then(() => false), timedOut]);
  clearTimeout(timer);
  clearInterval(sweep);
  if (late) {
    log.warning(`Graceful timeout (${plan.gracefulTimeoutMs / 1000}s): closing the connections still open.`);
    listeners.forEach(closeAll);
  }
  await app.close();
  await plan.accessLog.close();
}
