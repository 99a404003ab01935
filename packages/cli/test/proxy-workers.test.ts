import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, NODICORN_BIN, runCleanups, startNodicorn, startProcess, tempDir, until, type Proc } from '@nodicorn/testkit';

afterEach(runCleanups);

/**
 * The upstream: a nodicorn server on a Unix socket, in its own process (the test's own event loop
 * blocks while it asks `nodicorn status`, and an upstream in it would refuse connections then).
 */
async function upstream(dir: string): Promise<string> {
  const socket = join(dir, 'app.sock');
  writeFileSync(join(dir, 'app.mjs'), "export const app = (req, res) => { req.resume(); req.on('end', () => res.end('ok ' + req.url)); };\n");
  await startNodicorn(['-w', '1', '-b', `unix:${socket}`, '--chdir', dir, 'app.mjs:app']);
  return socket;
}

interface ProxyMaster {
  readonly proc: Proc;
  readonly http: string;
  readonly https: string;
  readonly control: string;
}

/** `nodicorn proxy --workers N ARGS` with its control socket in `dir`, once its master says every worker is ready. */
async function startProxyMaster(dir: string, args: readonly string[]): Promise<ProxyMaster> {
  const control = join(dir, 'control.sock');
  const proc = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--control-socket', control, '--access-log', 'off', ...args], { cwd: dir });
  await proc.waitFor(/\[INFO\] Ready: nodicorn proxy/, 60_000);
  const http = /Listening at: (http:\/\/\S+)/.exec(proc.output())?.[1] ?? '';
  const https = /Listening at: (https:\/\/\S+)/.exec(proc.output())?.[1] ?? '';
  return { proc, http, https, control };
}

interface WorkerStatus {
  readonly pid: number;
  readonly state: string;
  readonly requests: number;
}

/** `nodicorn status --json` against the proxy's master, as a user would ask it. */
function status(control: string): { pid: number; workers: WorkerStatus[] } {
  const run = spawnSync(process.execPath, [NODICORN_BIN, 'status', '--control-socket', control, '--json'], { encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`nodicorn status failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { pid: number; workers: WorkerStatus[] };
}

const readyWorkers = (control: string) => status(control).workers.filter((w) => w.state === 'ready');

interface Failure {
  readonly clientPort: number | undefined;
  readonly why: string;
}

/**
 * Bounded load: `loops` clients, each sending GETs one after another on its own kept-alive
 * connection (or a new one each time) until stopped (or `max` requests in all). Every answer that is not a 200, and every
 * error, is a failure, with the client port of the connection it happened on.
 */
function load(url: string, options: { loops?: number; max?: number; ca?: string; keepAlive?: boolean } = {}) {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const keepAlive = options.keepAlive ?? true;
  const agent = secure ? new https.Agent({ keepAlive, maxSockets: options.loops ?? 4, ca: options.ca, servername: 'localhost' }) : new http.Agent({ keepAlive, maxSockets: options.loops ?? 4 });
  const failures: Failure[] = [];
  let ok = 0;
  let stopped = false;
  /** Requests still to send with `Connection: close`, so their loops reconnect (and the kernel deals the connections again). */
  let closing = 0;
  const max = options.max ?? 50_000;
  const once = () =>
    new Promise<void>((resolve) => {
      let clientPort: number | undefined;
      const headers = closing > 0 && closing-- > 0 ? { connection: 'close' } : {};
      const req = (secure ? https : http).get({ host: target.hostname, port: target.port, path: '/load', agent, headers, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push({ clientPort, why: `status ${res.statusCode}` });
          resolve();
        });
        res.on('error', (err) => {
          failures.push({ clientPort, why: err.message });
          resolve();
        });
      });
      req.on('socket', (socket: Socket) => {
        clientPort = socket.localPort;
        if (clientPort === undefined) socket.once('connect', () => (clientPort = socket.localPort));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => {
        failures.push({ clientPort, why: err.message });
        resolve();
      });
    });
  const loops = Array.from({ length: options.loops ?? 4 }, async () => {
    while (!stopped && ok + failures.length < max) await once();
  });
  return {
    get ok() {
      return ok;
    },
    failures,
    /** Every loop's next request closes its connection gracefully and the loop opens a new one. */
    reconnect() {
      closing = options.loops ?? 4;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return { ok, failures };
    },
  };
}

/** Which proxy pid holds each established connection on `port`, by the client's port (ss, as root or as the owner). */
function connectionOwners(port: number): Map<number, number> {
  const ss = spawnSync('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const owners = new Map<number, number>();
  for (const line of ss.stdout.split('\n')) {
    const m = /\S+:(\d+)\s+\S+:(\d+)\s+users:\(\("[^"]*",pid=(\d+)/.exec(line);
    if (m && Number(m[1]) === port) owners.set(Number(m[2]), Number(m[3]));
  }
  return owners;
}

const portOf = (url: string) => Number(new URL(url).port);
const reloadsDone = (proc: Proc) => (proc.output().match(/Reload complete/g) ?? []).length;

describe('nodicorn proxy --workers N', () => {
  it('kill -9 of one worker under load: the master replaces it and the other serves every request it holds', async () => {
    const dir = tempDir('ndcpw-');
    const socket = await upstream(dir);
    const proxy = await startProxyMaster(dir, ['--workers', '2', '--listen', 'http://127.0.0.1:0', '--upstream', `unix:${socket}`]);
    const before = await until(() => (readyWorkers(proxy.control).length === 2 ? readyWorkers(proxy.control) : null), 30_000, 'two ready workers');
    const traffic = load(proxy.http, { loops: 6 });
    // Which worker accepts each connection is the kernel's race: while one holds them all, the
    // clients reconnect (gracefully, Connection: close) until both hold some.
    let dealt = Date.now();
    await until(() => {
      const owners = connectionOwners(portOf(proxy.http));
      if (new Set(owners.values()).size === 2) return traffic.ok > 200;
      if (Date.now() - dealt > 1000) {
        traffic.reconnect();
        dealt = Date.now();
      }
      return false;
    }, 30_000, 'traffic on both workers');
    const owners = connectionOwners(portOf(proxy.http));
    const victim = before[0]!.pid;
    process.kill(victim, 'SIGKILL');
    await proxy.proc.waitFor(new RegExp(`Worker ${victim} .*(killed|signal|SIGKILL)`), 30_000);
    const replaced = await until(() => {
      const ready = readyWorkers(proxy.control);
      return ready.length === 2 && !ready.some((w) => w.pid === victim) ? ready : null;
    }, 60_000, 'a replacement worker');
    const atKill = traffic.ok;
    await until(() => traffic.ok > atKill + 300, 30_000, 'traffic after the kill');
    const { ok, failures } = await traffic.stop();
    expect(ok).toBeGreaterThan(500);
    // A request can only have failed on a connection the killed worker held.
    const onSurvivors = failures.filter((f) => f.clientPort === undefined || owners.get(f.clientPort) !== victim);
    expect(onSurvivors, JSON.stringify({ failures, owners: [...owners] })).toEqual([]);
    expect(replaced.map((w) => w.pid)).toContain(before[1]!.pid);
    expect(childPids(proxy.proc.pid)).toHaveLength(2);
  }, 180_000);

  it('five HUPs under load fail no request; TTIN adds a worker; status shows them; --pid is written and removed', async () => {
    const dir = tempDir('ndcpw-');
    const socket = await upstream(dir);
    mkdirSync(join(dir, 'run'));
    const pidfile = join(dir, 'run', 'proxy.pid');
    const proxy = await startProxyMaster(dir, ['--workers', '2', '--pid', pidfile, '--name', 'edge', '--listen', 'http://127.0.0.1:0', '--upstream', `unix:${socket}`]);
    expect(readFileSync(pidfile, 'utf8').trim()).toBe(String(proxy.proc.pid));
    const first = status(proxy.control);
    expect(first.pid).toBe(proxy.proc.pid);
    expect(first.workers.map((w) => w.pid).sort()).toEqual(childPids(proxy.proc.pid).sort());
    expect(readFileSync(`/proc/${proxy.proc.pid}/cmdline`, 'utf8')).toContain('nodicorn: master [edge]');

    const traffic = load(proxy.http, { loops: 4 });
    await until(() => traffic.ok > 100, 30_000, 'traffic');
    const originals = first.workers.map((w) => w.pid);
    for (let i = 1; i <= 5; i++) {
      const done = reloadsDone(proxy.proc);
      const served = traffic.ok;
      proxy.proc.signal('SIGHUP');
      await until(() => reloadsDone(proxy.proc) === done + 1, 60_000, `reload ${i} to complete`);
      await until(() => traffic.ok > served + 50, 30_000, `traffic after reload ${i}`);
    }
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(500);
    const after = await until(() => {
      const ready = readyWorkers(proxy.control);
      return ready.length === 2 && ready.every((w) => !originals.includes(w.pid)) ? ready : null;
    }, 60_000, 'two reloaded workers');
    expect(after).toHaveLength(2);

    proxy.proc.signal('SIGTTIN');
    await until(() => readyWorkers(proxy.control).length === 3, 60_000, 'a third worker after TTIN');
    const shown = spawnSync(process.execPath, [NODICORN_BIN, 'status', '--control-socket', proxy.control], { encoding: 'utf8', timeout: 30_000 });
    expect(shown.stdout).toMatch(/^edge: master \d+, running, .* 3\/3 workers/m);
    expect(shown.stdout).toContain(proxy.http);

    proxy.proc.signal('SIGTERM');
    expect(await proxy.proc.exited(60_000)).toBe(0);
    expect(existsSync(pidfile)).toBe(false);
  }, 240_000);

  it('https under workers: the master makes the self-signed certificate once, before forking; every worker serves TLS with it', async () => {
    const dir = tempDir('ndcpw-');
    const socket = await upstream(dir);
    const proxy = await startProxyMaster(dir, ['--workers', '2', '--listen', 'https://127.0.0.1:0', '--listen', 'http://127.0.0.1:0', '--redirect-https', '--upstream', `unix:${socket}`]);
    expect(proxy.proc.output().match(/generated a self-signed development certificate/g)).toHaveLength(1);
    const certPath = join(dir, '.nodicorn', 'tls', 'localhost-cert.pem');
    const keyPath = join(dir, '.nodicorn', 'tls', 'localhost-key.pem');
    const stamp = () => [certPath, keyPath].map((p) => `${statSync(p).ino}:${statSync(p).mtimeMs}`).join(' ');
    const made = stamp();

    // More forks, for TTIN and for a reload (which goes back to --workers 2, as Gunicorn's HUP
    // does): none of them writes the files again.
    proxy.proc.signal('SIGTTIN');
    await until(() => readyWorkers(proxy.control).length === 3, 60_000, 'a third worker');
    proxy.proc.signal('SIGHUP');
    await until(() => reloadsDone(proxy.proc) === 1, 60_000, 'the reload');
    expect(stamp()).toBe(made);
    expect(proxy.proc.output()).not.toMatch(/generated a self-signed[^]*generated a self-signed/);

    const ca = readFileSync(certPath, 'utf8');
    // A new connection (and handshake) per request, so the kernel spreads them over the workers;
    // each worker counts what it serves, and every one of them must have answered over TLS.
    const traffic = load(proxy.https, { loops: 4, ca, keepAlive: false });
    await until(() => {
      const ready = readyWorkers(proxy.control);
      return ready.length === 2 && ready.every((w) => w.requests > 0);
    }, 60_000, 'every worker serving TLS');
    const { failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(stamp()).toBe(made);

    const redirect = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${proxy.http}/x`, resolve).on('error', reject));
    redirect.resume();
    expect(redirect.statusCode).toBe(308);
    expect(redirect.headers.location).toBe(`https://localhost:${portOf(proxy.https)}/x`);
  }, 240_000);

  it('--workers 1 runs one process with no master, and refuses the master-only flags', async () => {
    const dir = tempDir('ndcpw-');
    const socket = await upstream(dir);
    const refused = spawnSync(process.execPath, [NODICORN_BIN, 'proxy', '--workers', '1', '--pid', join(dir, 'p.pid'), '--upstream', `unix:${socket}`], { encoding: 'utf8', timeout: 30_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe('nodicorn proxy: error: --pid sets up the master of --workers 2 or more; --workers 1 runs one process with no master. Drop it or raise --workers.\n');
    const one = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--workers', '1', '--listen', 'http://127.0.0.1:0', '--upstream', `unix:${socket}`], { cwd: dir });
    await one.waitFor(/Ready: nodicorn proxy \(pid (\d+)\)/);
    expect(one.output()).toContain(`Ready: nodicorn proxy (pid ${one.pid})`);
    expect(childPids(one.pid)).toEqual([]);
  }, 60_000);
});
