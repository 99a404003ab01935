// Child processes for the bench: every contender is spawned through start() in its own process
// group, polled with real requests until it answers, and stopped as a whole group.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const live = new Set();

/** Kills every group still running (on exit, Ctrl-C, or a crash of the harness). */
export function killAll() {
  for (const p of live) {
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { killAll(); process.exit(130); });
}

/** Spawns `cmd args` detached (its own process group); keeps the last 8 KB of output for errors. */
export function start(cmd, args, { env, cwd } = {}) {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk) => { out = (out + chunk).slice(-8192); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  child.on('error', (err) => keep(`spawn error: ${err.message}\n`));
  const p = { child, pid: child.pid, exited, output: () => out, startedAt: performance.now() };
  live.add(p);
  return p;
}

/**
 * Kills the whole process group (master, workers, PM2's daemon) and resolves once the group leader
 * has exited. SIGKILL, not a graceful stop: the bench measures serving, and Gunicorn's graceful TERM
 * alone costs seconds per launch.
 */
export async function stop(p) {
  if (!live.has(p)) return;
  try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
  await p.exited;
  live.delete(p);
}

/** One GET; resolves with the status code or rejects. `target` is {url} or {socketPath, path}. */
export function probe(target, timeoutMs = 1000) {
  return new Promise((resolve, reject) => {
    const opts = { timeout: timeoutMs, rejectUnauthorized: false, agent: false };
    const mod = target.url?.startsWith('https:') ? https : http;
    const req = target.url
      ? mod.get(target.url, opts)
      : http.get({ ...opts, socketPath: target.socketPath, path: target.path ?? '/' });
    req.on('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('timeout', () => req.destroy(new Error('probe timeout')));
    req.on('error', reject);
  });
}

/**
 * Polls `target` until it answers 2xx; resolves with ms since the process was spawned. Rejects at
 * the deadline or when the process exits first, with its last output.
 */
export async function waitReady(p, target, deadlineMs = 15000) {
  const until = performance.now() + deadlineMs;
  let exited = false;
  p.exited.then(() => { exited = true; });
  for (;;) {
    if (exited) throw new Error(`exited before answering ${describe(target)}:\n${p.output()}`);
    try {
      const status = await probe(target, 500);
      if (status >= 200 && status < 300) return performance.now() - p.startedAt;
    } catch { /* not yet */ }
    if (performance.now() > until) throw new Error(`no answer from ${describe(target)} in ${deadlineMs} ms:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const describe = (t) => t.url ?? `unix:${t.socketPath}`;

/** A free TCP port on 127.0.0.1 (bind 0, read it back, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size of a pid in KB, from /proc (0 if it is gone). */
export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

/** Direct children of a pid, from /proc/*\/stat (field 4 is the parent pid). */
export function childrenOf(pid) {
  const kids = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(name));
    } catch { /* raced with an exit */ }
  }
  return kids;
}

/** CPU time (user + system) a pid has used, in clock ticks, from /proc/PID/stat (0 if it is gone). */
export function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5))
  } catch { return 0; }
}
