import type { App } from '@nodicorn/adapters';
import { parseEntrySpec } from '../app/entry-spec.js';
import { loadApp } from '../app/load-app.js';
import { AppLoadError, EXIT } from '../errors.js';
import { AccessLog } from '../logging/access-log.js';
import { ErrorLog } from '../logging/error-log.js';
import { WORKER_ENV, type WorkerConfig, type WorkerMessage } from '../protocol.js';
import { compileTrust, parseAllowList } from '../trust.js';
import { RequestTracker, TRACKER_GLOBAL } from './request-tracker.js';
import { WorkerHttp } from './serve.js';
import { startWatchdog } from './watchdog.js';

/**
 * A worker process: load the app, run its startup, accept on the inherited sockets, beat, and drain
 * on TERM. Exit codes follow Gunicorn: 3 when the worker cannot boot, 4 when the app cannot load.
 */
const config = JSON.parse(process.env[WORKER_ENV] ?? '{}') as WorkerConfig;
delete process.env[WORKER_ENV];
process.title = `nodicorn: worker [${config.procName}]`;

const log = new ErrorLog(config.errorlog, config.loglevel);
const tracker = new RequestTracker();
(globalThis as Record<string, unknown>)[TRACKER_GLOBAL] = tracker;

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

let app: App;
try {
  app = await loadApp(parseEntrySpec(config.app), config.chdir, { trustProxy: compileTrust(parseAllowList(config.forwardedAllowIps)) });
} catch (err) {
  if (err instanceof AppLoadError) {
    log.error(`${err.message}${err.cause instanceof Error && err.cause.stack ? `\n${err.cause.stack}` : ''}`);
    process.exit(err.exitCode);
  }
  log.error(`Exception while loading the app: ${describe(err)}`);
  process.exit(EXIT.WORKER_BOOT_ERROR);
}

try {
  await app.startup?.();
} catch (err) {
  log.error(`App startup() failed: ${describe(err)}`);
  process.exit(EXIT.WORKER_BOOT_ERROR);
}

const accessLog = config.accesslog ? new AccessLog(config.accesslog) : null;
let recycleRequested = false;
const worker = new WorkerHttp({
  app,
  acceptMode: config.acceptMode,
  listenFds: config.listenFds,
  reusePort: config.reusePort,
  sync: config.sync,
  ...(config.sync ? { onConnectionClosed: () => send({ type: 'free' }) } : {}),
  backlog: config.backlog,
  keepalive: config.keepalive,
  tracker,
  log,
  accessLog,
  accessLogFormat: config.accessLogFormat,
  onServed: (served) => {
    if (config.maxRequests > 0 && served >= config.maxRequests && !recycleRequested) {
      recycleRequested = true;
      send({ type: 'recycle', reason: `max_requests (${config.maxRequests}) reached` });
    }
  },
});

const watchdog = config.timeout > 0 ? startWatchdog({ timeoutMs: config.timeout * 1000, reportFd: config.watchdogFd }) : null;

function heartbeat(): void {
  watchdog?.beat();
  send({ type: 'heartbeat', requests: tracker.served, rss: process.memoryUsage.rss(), inflight: tracker.inflight.size, oldest: tracker.oldest() });
}

let stopping = false;
async function gracefulStop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`Worker exiting (pid: ${process.pid})`);
  const force = setTimeout(() => {
    log.warning(`Worker ${process.pid}: graceful timeout (${config.gracefulTimeout}s) reached with ${tracker.inflight.size} request(s) in flight; exiting`);
    finish(EXIT.OK);
  }, config.gracefulTimeout * 1000);
  force.unref();
  await worker.drain();
  try {
    await app.shutdown?.();
  } catch (err) {
    log.error(`App shutdown() failed: ${describe(err)}`);
  }
  finish(EXIT.OK);
}

function finish(code: number): never {
  accessLog?.flushSync();
  watchdog?.stop();
  process.exit(code);
}

process.on('SIGTERM', () => void gracefulStop());
process.on('SIGINT', () => finish(EXIT.OK));
process.on('SIGQUIT', () => finish(EXIT.OK));
process.on('SIGHUP', () => undefined); // the master reloads; a worker ignores HUP as Gunicorn's do
process.on('SIGUSR1', () => {
  log.reopen();
  accessLog?.reopen();
});
// The master is gone (killed with SIGKILL, say): exit rather than serve unsupervised on its sockets.
process.on('disconnect', () => {
  log.warning(`Worker ${process.pid}: master went away; exiting`);
  finish(EXIT.OK);
});
process.on('uncaughtException', (err) => {
  log.error(`Uncaught exception in worker ${process.pid}; exiting: ${describe(err)}`);
  finish(EXIT.ERROR);
});
process.on('unhandledRejection', (reason) => {
  log.error(`Unhandled promise rejection in worker ${process.pid}; exiting: ${describe(reason)}`);
  finish(EXIT.ERROR);
});

try {
  await worker.listen();
} catch (err) {
  log.error(`Worker could not listen on its inherited sockets: ${describe(err)}`);
  process.exit(EXIT.WORKER_BOOT_ERROR);
}
setInterval(heartbeat, Math.max(100, (config.timeout || 30) * 250));
send({ type: 'ready' });
heartbeat();
