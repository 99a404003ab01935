// Drives load with wrk (preferred) or autocannon (fallback) and returns parseWrk's result shape.
// A load spec: { url, connections, threads, durationS, headers?, method?, bodyBytes?, stop? } where
// `stop` is a promise that ends the run early (the report covers the time run).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseH2load } from './h2load-parse.mjs';
import { parseWrk } from './wrk-parse.mjs';

/** 'wrk' | 'autocannon' | null. BENCH_LOADER=autocannon forces the fallback (to test it). */
export function detectLoader() {
  if (process.env.BENCH_LOADER === 'autocannon') return 'autocannon';
  if (spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined) return 'wrk';
  try {
    createRequire(import.meta.url).resolve('autocannon');
    return 'autocannon';
  } catch {
    return null;
  }
}

let scriptDir;
/** A wrk lua script that sends every request as a POST with a `bytes`-long body. */
function postScript(bytes) {
  if (!scriptDir) {
    scriptDir = mkdtempSync(join(tmpdir(), 'ndc-wrk-'));
    process.once('exit', () => rmSync(scriptDir, { recursive: true, force: true }));
  }
  const file = join(scriptDir, `post-${bytes}.lua`);
  writeFileSync(file, [
    'wrk.method = "POST"',
    `wrk.body = string.rep("x", ${bytes})`,
    'wrk.headers["Content-Type"] = "application/octet-stream"',
    '',
  ].join('\n'));
  return file;
}

export function wrkArgs(spec) {
  const args = ['--latency', '-t', String(spec.threads ?? 1), '-c', String(spec.connections),
    '-d', `${spec.durationS}s`, '--timeout', `${spec.timeoutS ?? 5}s`];
  for (const [k, v] of Object.entries(spec.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (spec.method === 'POST') args.push('-s', postScript(spec.bodyBytes ?? 0));
  args.push(spec.url);
  return args;
}

/**
 * Runs a load tool for `spec.durationS` and parses what it printed (stdout and stderr together);
 * `stop`, when given, ends it early with SIGINT.
 */
function runTool(command, args, parse, spec, stop) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    stop?.then(() => child.kill('SIGINT'));
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    // The tool stops itself; this only bounds a wedged run.
    const timer = setTimeout(() => child.kill('SIGKILL'), (spec.durationS + 15) * 1000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      try { resolve(parse(out)); } catch (err) { reject(err); }
    });
  });
}

function runWrk(spec) {
  // wrk stops early on SIGINT and still prints its report.
  return runTool('wrk', wrkArgs(spec), parseWrk, spec, spec.stop);
}

async function runAutocannon(spec) {
  const { default: autocannon } = await import('autocannon');
  const run = autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationS,
    headers: spec.headers,
    method: spec.method ?? 'GET',
    body: spec.method === 'POST' ? Buffer.alloc(spec.bodyBytes ?? 0, 'x') : undefined,
    timeout: spec.timeoutS ?? 5,
  });
  spec.stop?.then(() => run.stop());
  const r = await run;
  const socketErrors = { connect: 0, read: r.errors - r.timeouts, write: 0, timeout: r.timeouts };
  return {
    requests: r.requests.total,
    seconds: r.duration,
    rps: r.requests.total / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    non2xx: r.non2xx,
    socketErrors,
    errors: r.non2xx + r.errors,
  };
}

/** Whether h2load (nghttp2-client) is on PATH, for the HTTP/2 row. */
export function hasH2load() {
  return spawnSync('h2load', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `streams` concurrent streams on each of `connections` HTTP/2 connections, for `durationS`. */
export function h2loadArgs(spec) {
  return ['-c', String(spec.connections), '-m', String(spec.streams ?? 10), '-t', String(spec.threads ?? 1), '-D', String(spec.durationS), spec.url];
}

function runH2load(spec) {
  return runTool('h2load', h2loadArgs(spec), parseH2load, spec);
}

/** wrk (or autocannon) for HTTP/1.1; a spec with `tool: 'h2load'` is HTTP/2 load, whatever the loader. */
export function runLoad(loader, spec) {
  if (spec.tool === 'h2load') return runH2load(spec);
  return loader === 'wrk' ? runWrk(spec) : runAutocannon(spec);
}
