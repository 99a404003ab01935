import { spawn, spawnSync } from 'node:child_process';

export const hasWrk = spawnSync('wrk', ['--version']).error === undefined;

export interface WrkResult {
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly non2xx: number;
  readonly socketErrors: { connect: number; read: number; write: number; timeout: number };
  readonly raw: string;
}

/** Parses wrk's summary: total requests, Requests/sec, socket errors and non-2xx/3xx responses. */
export function parseWrk(raw: string): WrkResult {
  const num = (re: RegExp) => Number(raw.match(re)?.[1] ?? 0);
  const errors = raw.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: num(/(\d+) requests in/),
    requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    raw,
  };
}

/** Runs wrk against a loopback URL for a bounded time and resolves with its parsed summary. */
export function runWrk(url: string, options: { connections?: number; threads?: number; seconds?: number; headers?: string[] } = {}): Promise<WrkResult> {
  const { hostname } = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname)) throw new Error(`load tests target loopback only, not ${hostname}`);
  const args = ['-t', String(options.threads ?? 2), '-c', String(options.connections ?? 50), '-d', `${options.seconds ?? 5}s`, '--timeout', '5s'];
  for (const h of options.headers ?? []) args.push('-H', h);
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', [...args, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c));
    child.stderr.on('data', (c: Buffer) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(parseWrk(out)) : reject(new Error(`wrk exited ${code}: ${out}`))));
  });
}
