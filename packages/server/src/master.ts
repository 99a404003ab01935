import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { parseEntrySpec } from './app/entry-spec.js';
import { loadApp, resolveModule } from './app/load-app.js';
import { Arbiter } from './arbiter/arbiter.js';
import { removePidfile, writePidfile } from './arbiter/pidfile.js';
import { spawnWorker } from './arbiter/spawn-worker.js';
import { resolveIdentity } from './arbiter/users.js';
import { childExecArgv } from './process/exec-argv.js';
import { defaultControlPath, serverName } from './control/paths.js';
import { ownFiles, watchForReload } from './dev-reload.js';
import { renderStatsdPrometheus } from './metrics/prometheus.js';
import { startMetricsServer } from './metrics/server.js';
import type { StatsdSink } from './metrics/statsd.js';
import { STATSD_FLUSH_MS } from './metrics/statsd-batch.js';
import { startControlServer } from './control/server.js';
import { EXIT, NodicornError, describeError } from './errors.js';
import { ErrorLog } from './logging/error-log.js';
import type { Settings } from './settings/definitions.js';
import type { Hooks } from './settings/hooks.js';
import { parseBind, systemdFds, type BindSpec } from './sockets/bind-spec.js';
import { acceptModeFor } from './sockets/accept-mode.js';
import { bindAll, type Listener } from './sockets/listeners.js';
import { resolveBindHosts } from './sockets/resolve-host.js';
import { checkWorkerTls } from './tls/server-tls.js';

/** The signals the master acts on (Gunicorn's table); everything else keeps Node's default. */
export const MASTER_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1', 'SIGWINCH'];

/** Which sockets to serve: systemd's inherited ones when they are for us, else every --bind. */
export function listenerSpecs(settings: Settings, env: NodeJS.ProcessEnv, pid: number): BindSpec[] {
  const inherited = systemdFds(env, pid);
  if (inherited.length > 0) return inherited.map((fd) => ({ kind: 'fd', fd }));
  return settings.bind.map(parseBind);
}

/** The workers' environment: the master's, less systemd's activation variables, plus -e KEY=VALUE. */
export function workerEnvironment(settings: Settings, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  delete out.LISTEN_FDS;
  delete out.LISTEN_PID;
  delete out.LISTEN_FDNAMES;
  for (const pair of settings.rawEnv) {
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * Starts the control socket. The default path is per server name; when another server of the same
 * name holds it, this one takes a pid-suffixed path rather than refusing to start.
 */
async function startControl(settings: Settings, name: string, log: ErrorLog, handle: Parameters<typeof startControlServer>[1]) {
  if (settings.controlSocket) {
    const server = await startControlServer(settings.controlSocket, handle);
    log.info(`Control socket: ${settings.controlSocket}`);
    return server;
  }
  const path = defaultControlPath(settings.procName, settings.app);
  try {
    const server = await startControlServer(path, handle, { privateDir: true });
    log.info(`Control socket: ${path}`);
    return server;
  } catch (err) {
    // A squatted directory is another user's doing: serve on, without a control socket, and say why.
    if (err instanceof NodicornError && err.code === 'ERR_CONTROL_DIR') {
      log.error(`${err.message} Serving without a control socket.`);
      return null;
    }
    const fallback = path.replace(/\.sock$/, `-${process.pid}.sock`);
    const server = await startControlServer(fallback, handle, { privateDir: true });
    log.info(`Control socket: ${fallback} (${path} belongs to another running ${name})`);
    return server;
  }
}

/**
 * A Unix-socket peer is trusted for X-Forwarded-* (as Gunicorn trusts it for the scheme), so a socket
 * every local user may write to lets any of them pose as the proxy. Said once at start, not refused:
 * some setups put the socket in a directory only the proxy can reach.
 */
function warnWorldWritableSockets(listeners: readonly Listener[], settings: Settings, log: ErrorLog): void {
  for (const listener of listeners) {
    if (listener.spec.kind !== 'unix' || (settings.umask & 0o002) !== 0) continue;
    log.warning(`${listener.label} can be written by every local user (--umask 0o${settings.umask.toString(8)}), and its peers are trusted for X-Forwarded-For/-Proto/-Host: any local user can pose as the proxy. Use the default --umask 0o117 (mode 0660) unless the directory keeps others out.`);
  }
}

/** Opens and closes a file a setting names, so a bad path is one line now, not a worker crash later. */
function assertOpens(path: string, flags: 'a' | 'r', failure: string, fix = ''): void {
  try {
    closeSync(openSync(path, flags));
  } catch (err) {
    throw new NodicornError('ERR_BAD_SETTING', `${failure} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.${fix}`);
  }
}

/**
 * Workers open the log files themselves, as --user: a file root can open may be closed to them
 * (a root-owned /var/log directory). So with --user the check is made as that user, in a child
 * process, and fails in one line before any worker is forked.
 */
function assertOpensAs(path: string, identity: { uid?: number; gid?: number }, failure: string): void {
  if (identity.uid === undefined && identity.gid === undefined) return;
  const probe = spawnSync(process.execPath, [...childExecArgv(), '-e', 'require("node:fs").closeSync(require("node:fs").openSync(process.argv[1], "a"))', path], {
    encoding: 'utf8',
    timeout: 10_000,
    ...identity,
  });
  if (probe.status === 0) return;
  const code = /\b(E[A-Z]+)\b/.exec(probe.stderr)?.[1] ?? probe.error?.message ?? `exit ${probe.status}`;
  throw new NodicornError('ERR_BAD_SETTING', `${failure} ${path} as the workers' user (uid ${identity.uid ?? process.getuid?.()}, gid ${identity.gid ?? process.getgid?.()}): ${code}. Workers run as --user/--group and open it themselves: make the file or its directory writable by them, or log to - (stderr).`);
}

function checkLogFiles(settings: Settings, identity: { uid?: number; gid?: number }): void {
  for (const [name, flag, path] of [['accesslog', '--access-logfile', settings.accesslog], ['errorlog', '--error-logfile', settings.errorlog]] as const) {
    if (!path || path === '-') continue;
    // As the workers first: a file the master (root) created would be root's, and closed to them.
    assertOpensAs(path, identity, `Cannot open ${name} (${flag})`);
    assertOpens(path, 'a', `Cannot open ${name} (${flag})`, ' Check the directory exists and is writable.');
  }
}

/** The master's statsd client for these settings; its module (and node:dgram) loads only when one is asked for. */
async function statsdFor(settings: Settings, log: ErrorLog): Promise<StatsdSink | null> {
  return settings.statsdHost ? (await import('./metrics/statsd.js')).StatsdSink.for(settings, log) : null;
}

/** What the master binds (host names resolved to their addresses) and who accepts on it. */
async function bindPlan(settings: Settings, env: NodeJS.ProcessEnv) {
  const binds = await resolveBindHosts(listenerSpecs(settings, env, process.pid));
  return { binds, acceptMode: acceptModeFor(settings.dispatch, settings.workerClass, binds.map((b) => b.spec)) };
}

/**
 * --check-config: the settings parsed; now load the app once, in this process, and bind every socket
 * once (then let it go), so that what would stop `nodicorn` from starting stops this check too.
 */
export async function checkConfig(settings: Settings, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  await loadApp(parseEntrySpec(settings.app), settings.chdir);
  checkLogFiles(settings, resolveIdentity(settings.user, settings.group));
  await checkWorkerTls(settings);
  const { binds, acceptMode } = await bindPlan(settings, env);
  for (const listener of await bindAll(binds, { umask: settings.umask, mode: acceptMode, backlog: settings.backlog, attempts: 1 })) listener.close();
  return EXIT.OK;
}

export interface RunningMaster {
  readonly arbiter: Arbiter;
  readonly listeners: readonly Listener[];
  /** Resolves with the exit code once the master has halted. */
  readonly halted: Promise<number>;
}

/**
 * Starts a master: validate what can be validated before forking (entry spec, module path,
 * pidfile, sockets, users), then hand over to the arbiter. Throws a NodicornError for anything a user
 * must fix; nothing is left running or bound when it does.
 */
/** What starting a master takes: resolved settings, the config file's hooks, and how to re-read them. */
export interface MasterInput {
  readonly settings: Settings;
  readonly hooks?: Partial<Hooks>;
  readonly reread?: () => Promise<{ settings: Settings; hooks: Partial<Hooks> }>;
  /**
   * How logs and status name each bound socket (default: its bind label, `http://HOST:PORT`). An App
   * that serves its own protocol on the sockets says which (the proxy's https listeners).
   */
  readonly labelListener?: (listener: Listener, index: number) => string;
}

export async function startMaster(input: MasterInput, env: NodeJS.ProcessEnv = process.env): Promise<RunningMaster> {
  const { settings } = input;
  const hooks = input.hooks ?? {};
  const log = new ErrorLog(settings.errorlog, settings.loglevel);
  // The master's own warning and error lines count for statsd from the first (Gunicorn's logger).
  let statsd = await statsdFor(settings, log);
  const countLogLines = () => (log.onCounted = statsd ? (level) => statsd?.countLog(level) : undefined);
  countLogLines();
  process.chdir(settings.chdir);
  // Fail in one line here rather than in every worker: a missing module cannot become importable.
  resolveModule(parseEntrySpec(settings.app).module, settings.chdir);
  const identity = resolveIdentity(settings.user, settings.group);
  checkLogFiles(settings, identity);
  await checkWorkerTls(settings);
  try {
    await hooks.onStarting?.({ pid: process.pid, settings, log, workerPids: [] });
  } catch (err) {
    throw new NodicornError('ERR_HOOK', `Hook onStarting failed, not starting: ${err instanceof Error ? err.message : String(err)}`, EXIT.ERROR, { cause: err });
  }
  const { binds, acceptMode } = await bindPlan(settings, env);
  if (settings.pidfile) writePidfile(settings.pidfile);
  let listeners: Listener[] = [];
  try {
    listeners = await bindAll(binds, { umask: settings.umask, mode: acceptMode, backlog: settings.backlog, log: (m) => log.info(m) });
  } catch (err) {
    for (const listener of listeners) listener.close();
    if (settings.pidfile) removePidfile(settings.pidfile);
    throw err;
  }
  process.title = `nodicorn: master [${settings.procName ?? settings.app}]`;
  const { labelListener } = input;
  if (labelListener) listeners = listeners.map((listener, i) => ({ ...listener, label: labelListener(listener, i) }));
  for (const listener of listeners) log.info(`Listening at: ${listener.label} (${process.pid})`);
  warnWorldWritableSockets(listeners, settings, log);

  let resolveHalted!: (code: number) => void;
  const halted = new Promise<number>((resolve) => (resolveHalted = resolve));
  const name = serverName(settings.procName, settings.app);
  let control: { close(): void } | null = null;
  let metricsServer: { close(): void } | null = null;
  let stopWatching = () => undefined as void;
  const tickMs = Math.max(100, Math.min(1000, settings.timeout * 250 || 1000));
  void statsd?.open();
  const signalHandlers = new Map<NodeJS.Signals, () => void>();
  // Gunicorn closes its listeners (and unlinks Unix paths) as a stop begins: a client connecting
  // during the drain is refused at once (ENOENT, ECONNREFUSED) instead of waiting in a backlog no
  // worker accepts from any more and being reset when the master exits.
  let listenersOpen = true;
  const closeListeners = (): Promise<void> => {
    if (!listenersOpen) return Promise.resolve();
    listenersOpen = false;
    return Promise.all(listeners.map((l) => (l.stopAccepting ? l.stopAccepting() : l.close()))).then(() => undefined);
  };
  const arbiter: Arbiter = new Arbiter(settings, listeners, {
    stopAccepting: closeListeners,
    spawn: spawnWorker,
    log,
    now: Date.now,
    workerEnv: () => workerEnvironment(arbiter.settings, env),
    identity,
    acceptMode,
    reopenLogs: () => log.reopen(),
    name,
    writeOutput: (line) => log.raw(line),
    onStatsd: (batch) => statsd?.add(batch),
    onHalt: (code) => {
      clearInterval(ticker);
      clearInterval(statsdFlush);
      statsd?.flushAndClose(0);
      control?.close();
      metricsServer?.close();
      stopWatching();
      for (const [signal, handler] of signalHandlers) process.off(signal, handler);
      void closeListeners();
      if (settings.pidfile) removePidfile(settings.pidfile);
      log.close();
      resolveHalted(code);
    },
  });
  arbiter.hooks = hooks;
  // HUP re-reads the config file first (asynchronous), then reloads through the event queue; a
  // broken file aborts that reload and the running workers carry on. The TLS files are checked
  // again too: the new workers read them, and a renewed certificate that does not load must leave
  // the old workers serving rather than fail every new one.
  const onHup = () => {
    (input.reread ? input.reread() : Promise.resolve(undefined))
      .then(async (next) => {
        await checkWorkerTls(next?.settings ?? arbiter.settings);
        if (!next) return arbiter.enqueue({ type: 'signal', signal: 'SIGHUP' });
        if (next.settings.bind.join() !== arbiter.settings.bind.join()) log.warning('HUP: bind changed in the config; new sockets need a restart, the old ones stay');
        arbiter.enqueue({ type: 'reload', settings: { ...next.settings, bind: arbiter.settings.bind }, hooks: next.hooks });
        // A new --statsd-host, prefix or tags take effect as the new workers do (Gunicorn makes a new logger on HUP).
        if (!(statsd?.sameAs(next.settings) ?? next.settings.statsdHost === null)) {
          const fresh = await statsdFor(next.settings, log);
          statsd?.flushAndClose(arbiter.workerCount());
          statsd = fresh;
          countLogLines();
          void statsd?.open();
        }
      })
      .catch((err: unknown) => log.error(`Reload aborted, the running workers carry on: ${describeError(err)}`));
  };
  for (const signal of MASTER_SIGNALS) {
    const handler = signal === 'SIGHUP' ? onHup : () => arbiter.enqueue({ type: 'signal', signal });
    signalHandlers.set(signal, handler);
    process.on(signal, handler);
  }
  const ticker = setInterval(() => arbiter.enqueue({ type: 'tick' }), tickMs);
  const statsdFlush = setInterval(() => statsd?.flush(arbiter.workerCount()), STATSD_FLUSH_MS);
  statsdFlush.unref();
  if (settings.reload) {
    log.warning('--reload is on: workers are replaced whenever a file under chdir changes. Do not use it in production.');
    const watched = [settings.chdir, ...settings.reloadExtraFiles];
    const ignore = ownFiles(settings, binds.map((bind) => bind.spec), env);
    const watcher = watchForReload(watched, (file) => {
      log.info(`Change detected in ${file}; reloading workers`);
      onHup();
    }, { ignore });
    stopWatching = () => void watcher.close();
  }
  if (settings.metricsBind) metricsServer = await startMetricsServer(settings.metricsBind, { metrics: () => arbiter.metrics() + (statsd ? renderStatsdPrometheus(statsd) : ''), readiness: () => arbiter.readiness() }, log);
  const commandSignals = { ttin: 'SIGTTIN', ttou: 'SIGTTOU', stop: 'SIGTERM' } as const;
  control = await startControl(settings, name, log, (request) => {
    if (request.command === 'status') return { ok: true, status: arbiter.status(name) };
    if (request.command === 'reload') onHup();
    else arbiter.enqueue({ type: 'signal', signal: commandSignals[request.command] });
    return { ok: true };
  });
  arbiter.start();
  return { arbiter, listeners, halted };
}

export { NodicornError };
