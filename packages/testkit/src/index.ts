import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, for paths to built entry points. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NODICORN_BIN = join(REPO_ROOT, 'packages/cli/bin/nodicorn.js');

const cleanups: Array<() => void | Promise<void>> = [];

/** Registers a cleanup to run in `runCleanups()` (call it from afterEach). */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

/** Runs and forgets every registered cleanup, newest first. */
export async function runCleanups(): Promise<void> {
  for (let fn = cleanups.pop(); fn; fn = cleanups.pop()) {
    try {
      await fn();
    } catch {
      // a cleanup must not hide the test's own failure
    }
  }
}

/** A short temp dir (Unix socket paths are limited to ~107 bytes), removed at cleanup. */
export function tempDir(prefix = 'ndc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output (past or future); rejects at the deadline. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or 128+signal) once the process has exited. */
  exited(timeoutMs?: number): Promise<number>;
  signal(signal: NodeJS.Signals): void;
}

/**
 * Spawns a process in its own process group and registers a cleanup that kills the whole group,
 * so no worker outlives a test.
 */
export function startProcess(command: string, args: readonly string[], options: SpawnOptions = {}): Proc {
  // Descriptors past stdio (inherited sockets) pass through; 0–2 are always ours to read.
  const extraFds = Array.isArray(options.stdio) ? options.stdio.slice(3) : [];
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe', ...extraFds] });
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  const pid = child.pid;
  let text = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const check of waiters) check();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exitCode: number | null = null;
  const exitPromise = new Promise<number>((resolve) => {
    // 'close' rather than 'exit': it comes after stdout and stderr are drained, so a failure report
    // always carries everything the process printed.
    child.once('close', (code, signal) => {
      exitCode = code ?? 128 + (signal ? (osSignals[signal] ?? 0) : 0);
      for (const check of waiters) check();
      resolve(exitCode);
    });
  });
  onCleanup(async () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // group already gone
    }
    await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 2000))]);
  });
  return {
    child,
    pid,
    output: () => text,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = text.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          } else if (exitCode !== null) {
            cleanup();
            reject(new Error(`process exited (${exitCode}) before printing ${pattern}; output:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${text}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited(timeoutMs = 15_000) {
      return Promise.race([
        exitPromise,
        new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms; output:\n${text}`)), timeoutMs).unref()),
      ]);
    },
    signal(signal) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone
      }
    },
  };
}

const osSignals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGABRT: 6 };

export interface NodicornServer extends Proc {
  /** The TCP port of the first TCP bind (resolved when bound to port 0), if any. */
  readonly port: number | undefined;
  readonly url: string;
}

/**
 * Starts `nodicorn ARGS` and waits until it reports Ready. Bind to `127.0.0.1:0` to get an
 * ephemeral port, read back from the "Listening at" line.
 */
export async function startNodicorn(args: readonly string[], options: SpawnOptions & { waitReady?: boolean } = {}): Promise<NodicornServer> {
  const proc = startProcess(process.execPath, [NODICORN_BIN, ...args], options);
  if (options.waitReady === false) return Object.assign(proc, { port: undefined, url: '' });
  await proc.waitFor(/\[INFO\] Ready: /);
  const match = proc.output().match(/Listening at: http:\/\/(\[[^\]]+\]|[^:\s]+):(\d+)/);
  const port = match ? Number(match[2]) : undefined;
  const url = match ? `http://${match[1]}:${port}` : '';
  return Object.assign(proc, { port, url });
}

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request without keep-alive; `socketPath` for Unix sockets. */
export function request(
  target: { url?: string; socketPath?: string; path?: string },
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const base = target.url ? new URL(target.url) : undefined;
    const req = http.request(
      {
        ...(target.socketPath ? { socketPath: target.socketPath } : { hostname: base!.hostname.replace(/^\[|\]$/g, ''), port: base!.port }),
        path: target.path ?? '/',
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Polls `probe` until it returns a truthy value or the deadline passes (for state, not for time). */
export async function until<T>(probe: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

/** Pids of a process's direct children (Linux /proc), e.g. a master's workers. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU time a process has used (user + system, in clock ticks: 100 a second on Linux). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU ticks a second a process burns over `ms` (a busy loop is ~100). */
export async function cpuTicksPerSecond(pid: number, ms = 1000): Promise<number> {
  const before = cpuTicks(pid);
  const t0 = Date.now();
  // A measuring window, not synchronisation.
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ((cpuTicks(pid) - before) * 1000) / (Date.now() - t0);
}

/** Whether a process exists and is not a zombie its parent has yet to reap. */
export function running(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return false;
  }
}
export { hasWrk, parseWrk, runWrk, type WrkResult } from './wrk.js';

/**
 * A loopback TCP port free right now (bound to 0, read back, closed), for a server that cannot bind
 * port 0 itself (reuse-port, a proxy from a config file, nginx).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
export { listeningPorts } from './listening.js';
export { hasOpenssl, makeCa, type CertFiles, type TestCa } from './certs.js';
