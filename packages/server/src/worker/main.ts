import type { App } from '@nodicorn/adapters';
import { parseEntrySpec } from '../app/entry-spec.js';
import { loadApp } from '../app/load-app.js';
import { appStack } from '../app/import-failure.js';
import { AppLoadError, EXIT } from '../errors.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AccessLog } from '../logging/access-log.js';
import { countRequest, emptyCounters } from '../metrics/counters.js';
import { StatsdBatcher } from '../metrics/statsd-batch.js';
import { ErrorLog } from '../logging/error-log.js';
import { WORKER_ENV, type QuarantineMessage, type ShedMessage, type WorkerConfig, type WorkerMessage } from '../protocol.js';
import { loadConfigFile } from '../settings/config-file.js';
import { callHook, type Hooks, type WorkerInfo } from '../settings/hooks.js';
import { compileTrust, parseAllowList } from '../trust.js';
import { RequestTracker, TRACKER_GLOBAL } from './request-tracker.js';
import { AppServed, type WorkerServing } from './app-served.js';
import { WorkerHttp } from './serve.js';
import { startWatchdog } from './watchdog.js';
import { loadWorkerTls, type WorkerTls } from '../tls/server-tls.js';

/**
 * A worker process: load the app, run its startup, accept connections, beat, and drain on TERM.
 * Exit codes follow Gunicorn: 3 when the worker cannot boot, 4 when the app cannot load.
 */
const config = JSON.parse(process.env[WORKER_ENV] ?? '{}') as WorkerConfig;
delete process.env[WORKER_ENV];
const { settings } = config;
process.title = `nodicorn: worker [${settings.procName ?? settings.app}]`;

const log = new ErrorLog(settings.errorlog, settings.loglevel);
// With --statsd-host the master sends; this worker only counts, and hands its counts over with
// each load report.
const statsd = settings.statsdHost ? new StatsdBatcher() : undefined;
if (statsd) log.onCounted = (level) => statsd.logLine(level);
const tracker = new RequestTracker();
(globalThis as Record<string, unknown>)[TRACKER_GLOBAL] = tracker;
const self: WorkerInfo = { id: config.id, pid: process.pid };

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

let hooks: Partial<Hooks> = {};
if (settings.config) {
  try {
    hooks = (await loadConfigFile(settings.config)).hooks;
  } catch (err) {
    log.error(`Worker could not load the config file's hooks: ${describe(err)}`);
    process.exit(EXIT.WORKER_BOOT_ERROR);
  }
}
callHook(hooks, 'postFork', log, settings, self);

// The files are read as this worker boots: after a HUP it presents the certificate on disk now.
let tls: WorkerTls | undefined;
try {
  tls = loadWorkerTls(settings);
} catch (err) {
  log.error(err instanceof Error ? err.message : String(err));
  process.exit(EXIT.WORKER_BOOT_ERROR);
}

const trustProxy = compileTrust(parseAllowList(settings.forwardedAllowIps));
let app: App;
try {
  app = await loadApp(parseEntrySpec(settings.app), settings.chdir, { trustProxy });
} catch (err) {
  if (err instanceof AppLoadError) {
    log.error(`${err.message}${appStack(err.cause)}`);
    process.exit(err.exitCode);
  }
  log.exception(`Exception while loading the app: ${describe(err)}`);
  process.exit(EXIT.WORKER_BOOT_ERROR);
}

try {
  await app.startup?.();
} catch (err) {
  log.error(`App startup() failed: ${describe(err)}`);
  process.exit(EXIT.WORKER_BOOT_ERROR);
}
callHook(hooks, 'postWorkerInit', log, self);

const accessLog = settings.accesslog
  ? new AccessLog(settings.accesslog, (err) => log.error(`Access log ${settings.accesslog} cannot be written (${err.code ?? err.message}); serving goes on, and this is said once until the log is reopened (USR1)`))
  : null;
const counters = settings.metricsBind ? emptyCounters() : undefined;
const loopDelay = counters ? monitorEventLoopDelay({ resolution: 20 }) : undefined;
loopDelay?.enable();
let recycleRequested = false;
function requestRecycle(reason: string): void {
  if (recycleRequested) return;
  recycleRequested = true;
  send({ type: 'recycle', reason });
}

/** Who is told of each finished request: the Prometheus counters, the statsd batch, both or none. */
function requestCounting(): { countRequest?: (status: number, seconds: number) => void } {
  if (counters && statsd) {
    return {
      countRequest: (status, seconds) => {
        countRequest(counters, status, seconds);
        statsd.request(status, seconds);
      },
    };
  }
  if (counters) return { countRequest: (status, seconds) => countRequest(counters, status, seconds) };
  if (statsd) return { countRequest: (status, seconds) => statsd.request(status, seconds) };
  return {};
}

function serving(): WorkerServing {
  // An App with its own servers (the proxy) takes the inherited sockets; any other gets node:http.
  if (app.serve) return new AppServed(app as App & Required<Pick<App, 'serve'>>, config.listenFds, config.acceptMode, settings.gracefulTimeout * 1000);
  return new WorkerHttp({
    app,
    ...(tls ? { tls } : {}),
    settings,
    acceptMode: config.acceptMode,
    listenFds: config.listenFds,
    reusePort: config.reusePort,
    trustProxy,
    tracker,
    log,
    accessLog,
    ...requestCounting(),
    ...(hooks.preRequest ? { preRequest: (req) => callHook(hooks, 'preRequest', log, self, req) } : {}),
    ...(hooks.postRequest ? { postRequest: (req, res) => callHook(hooks, 'postRequest', log, self, req, res) } : {}),
    ...(settings.workerClass === 'sync' ? { onConnectionClosed: () => send({ type: 'free' }) } : {}),
    onServed: (served) => {
      if (config.maxRequests > 0 && served >= config.maxRequests) requestRecycle(`max_requests (${config.maxRequests}) reached`);
    },
  });
}

let worker: WorkerServing;
try {
  worker = serving();
} catch (err) {
  log.error(err instanceof Error ? err.message : String(err));
  process.exit(EXIT.WORKER_BOOT_ERROR);
}

const watchdog = settings.timeout > 0 ? startWatchdog({ timeoutMs: settings.timeout * 1000, reportFd: config.watchdogFd }) : null;

function heartbeat(): void {
  watchdog?.beat();
  const rss = process.memoryUsage.rss();
  if (counters && loopDelay) {
    counters.loopLagMs = Number.isFinite(loopDelay.mean) ? loopDelay.mean / 1e6 : 0;
    loopDelay.reset();
  }
  send({ type: 'heartbeat', requests: worker.served, rss, inflight: worker.inflight, oldest: tracker.oldest(), ...(counters ? { counters } : {}) });
  checkMemory(rss);
}

function checkMemory(rss = process.memoryUsage.rss()): void {
  if (settings.maxWorkerMemory > 0 && rss > settings.maxWorkerMemory * 1024 * 1024) {
    requestRecycle(`max_worker_memory (${settings.maxWorkerMemory} MB) exceeded: RSS ${Math.round(rss / 1024 / 1024)} MB`);
  }
}

// The heartbeat runs every timeout/4 (7.5 s by default): far too rare for a memory limit, which a
// leaking app overshot 6x (issue 12.5). memoryUsage.rss() is one read of /proc/self/stat (no heap
// walk, unlike memoryUsage()), cheap enough every 250 ms, so the overshoot is bounded by what well
// under a second of traffic allocates.
if (settings.maxWorkerMemory > 0) setInterval(checkMemory, 250).unref();

let stopping = false;
async function gracefulStop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`Worker exiting (pid: ${process.pid})`);
  const force = setTimeout(() => {
    log.warning(`Worker ${process.pid}: graceful timeout (${settings.gracefulTimeout}s) reached with ${tracker.inflight.size} request(s) in flight; exiting`);
    finish(EXIT.OK);
  }, settings.gracefulTimeout * 1000);
  force.unref();
  await worker.drain();
  try {
    await app.shutdown?.();
  } catch (err) {
    log.error(`App shutdown() failed: ${describe(err)}`);
  }
  await handOverLastCounts();
  finish(EXIT.OK);
}

/**
 * A retiring worker's last requests still count: its final statsd batch goes to the master before
 * it exits (the 250 ms report would come too late). Bounded, so a stuck channel cannot hold the exit.
 */
function handOverLastCounts(): Promise<void> {
  const batch = statsd?.take();
  if (!batch || !process.connected || !process.send) return Promise.resolve();
  const last: WorkerMessage = { type: 'load', requests: tracker.served, connections: worker.openConnections, statsd: batch };
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    process.send!(last, undefined, undefined, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function finish(code: number): never {
  accessLog?.flushSync();
  watchdog?.stop();
  process.exit(code);
}

function fastStop(): void {
  callHook(hooks, 'workerInt', log, self);
  finish(EXIT.OK);
}

process.on('SIGTERM', () => void gracefulStop());
process.on('message', (message: { type?: string }) => {
  if (message?.type === 'retire') worker.othersKeepAccepting();
  else if (message?.type === 'quarantine') worker.quarantine(message as QuarantineMessage);
  else if (message?.type === 'shed') worker.shed((message as ShedMessage).connections);
});
process.on('SIGINT', fastStop);
process.on('SIGQUIT', fastStop);
process.on('SIGHUP', () => undefined); // the master reloads; a worker ignores HUP as Gunicorn's do
process.on('SIGUSR1', () => {
  log.reopen();
  accessLog?.reopen();
  worker.reopenLogs?.();
  log.info(`Worker ${process.pid}: log files reopened`);
});
// The master is gone (killed with SIGKILL, say): exit rather than serve unsupervised on its sockets.
process.on('disconnect', () => {
  log.warning(`Worker ${process.pid}: master went away; exiting`);
  finish(EXIT.OK);
});
process.on('uncaughtException', (err) => {
  log.exception(`Uncaught exception in worker ${process.pid}; exiting: ${describe(err)}`);
  finish(EXIT.ERROR);
});
process.on('unhandledRejection', (reason) => {
  log.exception(`Unhandled promise rejection in worker ${process.pid}; exiting: ${describe(reason)}`);
  finish(EXIT.ERROR);
});

try {
  await worker.listen();
} catch (err) {
  log.error(`Worker could not listen: ${describe(err)}`);
  process.exit(EXIT.WORKER_BOOT_ERROR);
}
setInterval(heartbeat, Math.max(100, (settings.timeout || 30) * 250));
// Fresher than the heartbeat and far cheaper: status counts at most a second old, and the
// connection counts the master balances on.
let lastLoad = '';
setInterval(() => {
  const load = { type: 'load', requests: worker.served, connections: worker.openConnections } as const;
  const key = `${load.requests} ${load.connections}`;
  const batch = statsd?.take();
  if (batch) send({ ...load, statsd: batch });
  else if (key !== lastLoad) send(load);
  lastLoad = key;
}, 250).unref();
send({ type: 'ready' });
heartbeat();
