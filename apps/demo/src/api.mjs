// The demo API, written once: each framework app (express-app.mjs, koa-app.mjs, hono-app.mjs) only
// maps its routes onto these functions, so the three differ in framework code and nothing else.
import { Readable } from 'node:stream';
import { serverStats } from '@nodicorn/server';

/** Bounds on what a request may ask for, so a stray click cannot wedge a worker for long. */
export const LIMITS = {
  blockSeconds: { fallback: 8, min: 1, max: 60 }, // the stack's timeout is 5 s: 8 s is past it
  slowMs: { fallback: 2000, min: 0, max: 30_000 },
  downloadMb: { fallback: 50, min: 1, max: 512 },
};

/** A query value as an integer within [min, max]; anything unparsable is the fallback. */
export function bounded(value, { fallback, min, max }) {
  const n = Number.parseInt(String(value ?? ''), 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

/** Who answered and who asked: `scheme` and `client` are what the framework believes behind the proxy. */
export function info(framework, { scheme, client }) {
  const worker = Number(process.env.NODICORN_WORKER_ID);
  return { framework, pid: process.pid, worker: Number.isInteger(worker) ? worker : null, scheme, client };
}

/** The whole server (master and every worker) as its master sees it. */
export function stats() {
  return serverStats();
}

/**
 * Exits with status 1 once `res` has been sent: the client gets its answer, then the master sees a
 * crashed worker and replaces it (Gunicorn respawns a worker that died after booting).
 */
export function crashAfter(res) {
  res.once('finish', () => setImmediate(() => process.exit(1)));
  return { crashing: true, pid: process.pid };
}

/**
 * Spins the event loop for `seconds` without yielding. Past the server's timeout the heartbeat stops,
 * the master kills this worker and logs the request and the JavaScript stack it was stuck in, so the
 * client sees the proxy's 502 rather than this function's return.
 */
export function block(seconds) {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until); // deliberately synchronous: that is the bug being demonstrated
  return { blocked: seconds, pid: process.pid };
}

/** A slow request that leaves the event loop free: the worker serves others meanwhile. */
export async function slow(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { slept: ms, pid: process.pid };
}

const CHUNK = Buffer.alloc(64 * 1024, 'nodicorn '.repeat(8));

/**
 * `mb` MiB generated on demand as a stream with backpressure: memory stays at a chunk or two however
 * large the download, which is the point of the scenario (watch RSS on the dashboard).
 */
export function download(mb) {
  const total = mb * 1024 * 1024;
  let sent = 0;
  const body = new Readable({
    read() {
      const n = Math.min(CHUNK.length, total - sent);
      sent += n;
      this.push(n > 0 ? CHUNK.subarray(0, n) : null);
    },
  });
  return {
    body,
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(total),
      'content-disposition': `attachment; filename="nodicorn-${mb}mb.bin"`,
    },
  };
}

/**
 * HUP to this worker's master (its parent process): a zero-downtime reload of code and config. Sent
 * after the answer so the reply is not cut off by this worker's own retirement.
 */
export function reloadAfter(res) {
  res.once('finish', () => process.kill(process.ppid, 'SIGHUP'));
  return { reloading: true, master: process.ppid };
}
