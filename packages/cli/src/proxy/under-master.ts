import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Certificates, PROXY_WORKER_ENV, encodeWorkerPlan, formatListen, logTlsAndRoutes, resolveProxyConfig, type ListenSpec, type ProxyConfig, type ProxyLogger, type TlsMaterial } from '@nodicorn/proxy';
import { NodicornError, defaultSettings, layerSettings, resolveBindHosts, startMaster, validateSettings, type Settings } from '@nodicorn/server';
import type { MasterValues } from './master-flags.js';

/** Linux refuses an environment string longer than this (MAX_ARG_STRLEN); the plan must fit in one. */
const MAX_PLAN_BYTES = 128 * 1024 - 1;

/** --workers 0 is nginx's `worker_processes auto`: one per CPU core. */
export function resolveWorkers(workers: number): number {
  return workers || availableParallelism();
}

export function workerCount(config: ProxyConfig): number {
  return resolveWorkers(config.settings.workers);
}

/** The built entry the workers load: this package's `@nodicorn/proxy`, whose createProxyApp() reads the plan. */
function workerEntry(): string {
  return `${fileURLToPath(import.meta.resolve('@nodicorn/proxy'))}:createProxyApp()`;
}

/**
 * What the master binds: every --listen with its host name resolved to each address (as the server
 * binds `-b localhost:8000`), so that the i-th socket a worker inherits is the i-th of these and the
 * worker knows which are https.
 */
async function socketPlan(listeners: readonly ListenSpec[]): Promise<ListenSpec[]> {
  const sockets: ListenSpec[] = [];
  const seen = new Set<string>();
  for (const spec of listeners) {
    for (const { spec: bind } of await resolveBindHosts([{ kind: 'tcp', host: spec.host, port: spec.port }])) {
      if (bind.kind !== 'tcp') continue;
      const url = formatListen(spec.scheme, bind.host, bind.port);
      const key = `${bind.host} ${bind.port}`;
      if (seen.has(key) && bind.port !== 0) throw new NodicornError('ERR_BAD_SETTING', `Invalid --listen: ${url} is bound twice (another --listen resolves to the same address and port); give each address once.`, 2);
      seen.add(key);
      sockets.push({ scheme: spec.scheme, host: bind.host, port: bind.port });
    }
  }
  return sockets;
}

function bindOf(socket: ListenSpec): string {
  return `${socket.host.includes(':') ? `[${socket.host}]` : socket.host}:${socket.port}`;
}

/** The server settings of the proxy's master: its sockets and workers, the proxy's plan in the workers' environment. */
function masterSettings(config: ProxyConfig, sockets: readonly ListenSpec[], tls: TlsMaterial | null, master: MasterValues, env: NodeJS.ProcessEnv): Settings {
  const plan = encodeWorkerPlan({ config, sockets, tls: tls ? { certPath: tls.certPath, keyPath: tls.keyPath } : null });
  if (Buffer.byteLength(plan) > MAX_PLAN_BYTES) {
    throw new NodicornError('ERR_BAD_SETTING', `The resolved proxy config is ${Math.ceil(Buffer.byteLength(plan) / 1024)} KiB, more than the 128 KiB its workers can be handed in their environment; shorten the routes and upstreams or run --workers 1.`, 2);
  }
  return validateSettings(
    layerSettings(defaultSettings(env), {
      app: workerEntry(),
      bind: sockets.map(bindOf),
      workers: workerCount(config),
      chdir: config.cwd,
      // Shared accept: every worker accepts on the master's sockets with its own (TLS, HTTP/2) servers.
      dispatch: 'shared',
      workerClass: 'async',
      gracefulTimeout: config.settings.gracefulTimeout,
      // The proxy writes its own access log (nginx's combined format).
      accesslog: null,
      procName: 'proxy',
      rawEnv: [`${PROXY_WORKER_ENV}=${plan}`],
      ...master,
    }),
  );
}

/**
 * `nodicorn proxy --workers N`: the proxy as the app of a nodicorn master. The master binds every
 * --listen, makes or reads the certificate once (before any worker forks, so workers never race to
 * generate it), and then supervises as it does any app: heartbeat timeout, crash respawn, TTIN/TTOU,
 * status and ctl, and HUP re-reading the config through its one replace-a-worker path.
 */
export async function runUnderMaster(argv: readonly string[], config: ProxyConfig, master: MasterValues, log: ProxyLogger, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const sockets = await socketPlan(config.listeners);
  const needsTls = sockets.some((s) => s.scheme === 'https');
  // Every certificate checked (the hosts' too) and the development one generated here, once, before any fork.
  const tls = needsTls ? (await Certificates.load(config)).primary : null;
  const settings = masterSettings(config, sockets, tls, master, env);
  const hooks = {
    whenReady: (server: { pid: number }) => log.info(`Ready: nodicorn proxy (master pid ${server.pid}, ${settings.workers} worker(s))`),
  };
  const running = await startMaster({
    settings,
    hooks,
    labelListener: (listener, i) => formatListen(sockets[i]!.scheme, sockets[i]!.host, listener.port ?? sockets[i]!.port),
    reread: async () => {
      const next = await resolveProxyConfig(argv, config.cwd);
      if (JSON.stringify(next.listeners) !== JSON.stringify(config.listeners)) {
        log.warning('HUP: --listen changed; listener changes need a restart. The workers get the new config on the sockets the master already holds.');
      }
      const nextTls = needsTls ? (await Certificates.load(next)).primary : null;
      return { settings: masterSettings({ ...next, listeners: config.listeners }, sockets, nextTls, master, env), hooks };
    },
  });
  const https = running.listeners.find((_, i) => sockets[i]!.scheme === 'https');
  logTlsAndRoutes(config, tls, https ? formatListen('https', https.spec.kind === 'tcp' ? https.spec.host : '', https.port ?? 0) : undefined, log);
  return running.halted;
}
