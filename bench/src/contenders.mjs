// Every contender the scenarios can name: how to find it on this machine, start it, reload it.
// Optional ones (PM2, Gunicorn, nginx, nodicorn's newer flags and its proxy) are detected, never assumed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectNodicorn, detectProxy } from './detect.mjs';
import { GZIP_LEVEL, LIMITED, nginxConf } from './nginx.mjs';
import { freePort, start, stop, waitReady } from './proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const SERVERS = join(here, 'servers');
export const REPO_ROOT = join(here, '../..');
export const NODICORN_BIN = join(REPO_ROOT, 'packages/cli/bin/nodicorn.js');
const WORKERS = 2;
/** Proxy processes on both sides: nginx's worker_processes and `nodicorn proxy --workers`. */
export const PROXY_WORKERS = WORKERS;

const which = (cmd) => {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};

function findPm2() {
  try {
    const pkg = createRequire(import.meta.url).resolve('pm2/package.json');
    return { runtime: [process.execPath, join(dirname(pkg), 'bin/pm2-runtime')], cli: [process.execPath, join(dirname(pkg), 'bin/pm2')], where: 'bench optionalDependency' };
  } catch { /* not installed locally */ }
  const rt = which('pm2-runtime');
  const cli = which('pm2');
  return rt && cli ? { runtime: [rt], cli: [cli], where: 'global' } : null;
}

/** Probes the machine once. */
export function discover() {
  const node = (args) => spawnSync(process.execPath, [NODICORN_BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
  const help = node(['--help']);
  const proxyHelp = node(['proxy', '--help']);
  return {
    nodicorn: detectNodicorn(help.stdout + help.stderr, process.versions.node),
    proxy: detectProxy(proxyHelp.status, proxyHelp.stdout + proxyHelp.stderr),
    pm2: findPm2(),
    gunicorn: which('gunicorn'),
    nginx: which('nginx'),
  };
}

const http = (port) => ({ http: `http://127.0.0.1:${port}` });
const hup = (inst) => process.kill(inst.leader.pid, 'SIGHUP');

function nodicornArgs(bind, extra) {
  return [NODICORN_BIN, '-w', String(WORKERS), '-b', bind, '--chdir', SERVERS, ...extra, 'app.mjs:app'];
}

function nodicorn(id, label, extra) {
  return {
    id, label, reload: hup,
    async start() {
      const port = await freePort();
      const p = start(process.execPath, nodicornArgs(`127.0.0.1:${port}`, extra));
      return { leader: p, procs: [p], urls: http(port) };
    },
  };
}

function simple(id, label, cmd, args, env = {}, reload) {
  return {
    id, label, reload,
    async start() {
      const port = await freePort();
      const p = start(cmd, args(port), { env: { ...env, PORT: String(port) } });
      return { leader: p, procs: [p], urls: http(port) };
    },
  };
}

/** The app behind a proxy: a nodicorn server on a Unix socket in `dir`, waited on. */
async function backend(dir) {
  const sock = join(dir, 'app.sock');
  const p = start(process.execPath, nodicornArgs(`unix:${sock}`, []));
  await waitReady(p, { socketPath: sock, path: '/' });
  return { p, sock };
}

/** The proxy's config file: the rate-limited route nginx has too (routes are config-file only). */
export const proxyConfig = () => ({
  routes: [{ prefix: LIMITED.prefix, upstream: 'default', limitReq: { rate: LIMITED.rate, burst: LIMITED.burst, nodelay: true } }],
});

/** Flag names must match `nodicorn proxy --help`; detectProxy checks them before this runs. */
export function proxyArgs({ port, tlsPort, cert, key, staticRoot, sock, config }) {
  // The access log stays on, as nginx's does in its contender: both pay for the same work. gzip is on
  // for both at the same level (GZIP_LEVEL); only proxy-gzip's requests accept it.
  return [NODICORN_BIN, 'proxy', '--workers', String(PROXY_WORKERS), '--listen', `http://127.0.0.1:${port}`, '--listen', `https://127.0.0.1:${tlsPort}`,
    '--tls-cert', cert, '--tls-key', key, '--static', `/static=${join(staticRoot, 'static')}`, '--upstream', `unix:${sock}`,
    '--access-log', join(dirname(sock), 'proxy-access.log'), ...(config ? ['--config', config] : []), '--gzip', 'on', '--gzip-comp-level', String(GZIP_LEVEL)];
}

function proxied(id, label, launch) {
  return {
    id, label, proxy: true,
    async start({ tmp, fixtures }) {
      const dir = join(tmp, id);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      const app = await backend(dir);
      const [port, tlsPort] = [await freePort(), await freePort()];
      const p = launch({ dir, port, tlsPort, sock: app.sock, ...fixtures });
      return {
        leader: p, procs: [p, app.p],
        urls: { http: `http://127.0.0.1:${port}`, https: `https://127.0.0.1:${tlsPort}` },
      };
    },
  };
}

/** PM2 cluster mode under pm2-runtime (foreground), with its own PM2_HOME so no user daemon is touched. */
function pm2({ runtime, cli }) {
  return {
    id: 'pm2', label: 'PM2 cluster',
    async start({ tmp }) {
      const port = await freePort();
      const home = join(tmp, `pm2-${port}`);
      const p = start(runtime[0], [...runtime.slice(1), 'start', join(SERVERS, 'pm2-app.cjs'), '-i', String(WORKERS), '--name', 'bench'],
        { env: { PORT: String(port), PM2_HOME: home } });
      return { leader: p, procs: [p], urls: http(port), home };
    },
    async reload(inst) {
      const r = spawnSync(cli[0], [...cli.slice(1), 'reload', 'bench'], { env: { ...process.env, PM2_HOME: inst.home }, encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) throw new Error(`pm2 reload failed: ${r.stderr || r.stdout}`);
    },
  };
}

/** All contenders available here, by id, in table order. */
export function contenders(found) {
  const list = [
    simple('node-http', 'node:http (1 process)', process.execPath, (port) => [join(SERVERS, 'raw.mjs'), String(port)]),
    simple('cluster-rr', 'node:cluster round-robin', process.execPath, (port) => [join(SERVERS, 'cluster.mjs'), String(port), String(WORKERS)], { NODE_CLUSTER_SCHED_POLICY: 'rr' }),
    simple('cluster-none', 'node:cluster SCHED_NONE', process.execPath, (port) => [join(SERVERS, 'cluster.mjs'), String(port), String(WORKERS)], { NODE_CLUSTER_SCHED_POLICY: 'none' }),
  ];
  if (found.pm2) list.push(pm2(found.pm2));
  const { dispatch, sync } = found.nodicorn;
  if (dispatch.length === 0) list.push(nodicorn('nodicorn', 'nodicorn (shared)', []));
  for (const mode of dispatch) list.push(nodicorn(`nodicorn-${mode}`, `nodicorn ${mode}`, ['--dispatch', mode]));
  if (sync) list.push(nodicorn('nodicorn-sync', 'nodicorn sync', ['--worker-class', 'sync']));
  if (found.gunicorn) {
    const gargs = (k) => (port) => ['-w', String(WORKERS), '-k', k, ...(k === 'gthread' ? ['--threads', '4'] : []), '-b', `127.0.0.1:${port}`, '--chdir', SERVERS, 'wsgi_app:app'];
    list.push(simple('gunicorn-sync', 'Gunicorn sync (WSGI)', found.gunicorn, gargs('sync'), {}, hup));
    list.push(simple('gunicorn-gthread', 'Gunicorn gthread (WSGI)', found.gunicorn, gargs('gthread'), {}, hup));
  }
  if (found.nginx) {
    list.push(proxied('nginx', 'nginx → nodicorn', ({ dir, ...o }) => {
      writeFileSync(join(dir, 'nginx.conf'), nginxConf({ prefix: dir, upstreamSocket: o.sock, asRoot: process.getuid?.() === 0, workers: PROXY_WORKERS, ...o }));
      return start(found.nginx, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;']);
    }));
  }
  if (found.proxy.ok) {
    list.push(proxied('nodicorn-proxy', 'nodicorn proxy → nodicorn', (o) => {
      const config = join(o.dir, 'proxy.json');
      writeFileSync(config, JSON.stringify(proxyConfig()));
      return start(process.execPath, proxyArgs({ ...o, config }));
    }));
  }
  return new Map(list.map((c) => [c.id, c]));
}

/** Where each framework's hello world and its own-listen() baseline live (packages/adapters/bench). */
export const FRAMEWORK_BENCH = join(REPO_ROOT, 'packages/adapters/bench');
export const FRAMEWORK_KINDS = ['express', 'koa', 'fastify', 'nest-express', 'nest-fastify', 'hono', 'fetch'];

/**
 * Two contenders per framework: its bare export on nodicorn (2 workers, default dispatch), and the same
 * app on the framework's own listen() in 2 node:cluster workers (round-robin).
 */
export function frameworkContenders(kinds = FRAMEWORK_KINDS) {
  const list = [];
  for (const kind of kinds) {
    list.push({
      id: `fw-nodicorn-${kind}`, label: `${kind} on nodicorn`,
      async start() {
        const port = await freePort();
        const p = start(process.execPath, [NODICORN_BIN, '-w', String(WORKERS), '-b', `127.0.0.1:${port}`, '--chdir', join(FRAMEWORK_BENCH, 'apps'), `${kind}.mjs:app`]);
        return { leader: p, procs: [p], urls: http(port) };
      },
    });
    list.push(simple(`fw-cluster-${kind}`, `${kind} own listen() under node:cluster`, process.execPath,
      (port) => [join(FRAMEWORK_BENCH, 'cluster-server.mjs'), kind, String(port), String(WORKERS)], { NODE_CLUSTER_SCHED_POLICY: 'rr' }));
  }
  return new Map(list.map((c) => [c.id, c]));
}

/** Starts a contender and waits until `path` answers; resolves with the instance and ms to first response. */
export async function launch(c, ctx, path = '/', via = 'http') {
  const inst = await c.start(ctx);
  try {
    const readyMs = await waitReady(inst.leader, { url: inst.urls[via] + path });
    return { inst, readyMs };
  } catch (err) {
    await shutdown(inst);
    throw err;
  }
}

export async function shutdown(inst) {
  for (const p of inst.procs) await stop(p);
}
