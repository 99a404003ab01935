#!/usr/bin/env node
// Hello-world throughput of each framework on nodicorn (1 worker) against the same framework on its
// own node:http server (1 process), measured with wrk, contenders alternated round by round so drift
// on the machine hits both. Prints a markdown table of median requests/s, and of the serving process's
// CPU time per request (user+sys from /proc, the nodicorn worker's for nodicorn): on a shared, busy
// machine req/s follows the neighbours; CPU per request less so, though cache and frequency
// contention still move it (on a 2-vCPU host at load 20 both swung by ±20% between runs).
//
//   node packages/adapters/bench/frameworks.mjs [--rounds 3] [--duration 5s] [--connections 50] [--only express,koa]
//
// Needs `wrk` on PATH and a build (`pnpm build`).
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const NODICORN = fileURLToPath(new URL('../../cli/bin/nodicorn.js', import.meta.url));
const TARGETS = { express: 0.95, koa: 0.95, fastify: 0.95, 'nest-express': 0.95, 'nest-fastify': 0.95, hono: 0.9, fetch: 0.9 };

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5s' },
    connections: { type: 'string', default: '50' },
    threads: { type: 'string', default: '2' },
    only: { type: 'string', default: Object.keys(TARGETS).join(',') },
  },
});
const kinds = values.only.split(',').filter((k) => k in TARGETS);
const children = [];

const TICK_US = 1e6 / 100; // /proc/PID/stat counts CPU in USER_HZ ticks, 100 on Linux

/** CPU time (user + sys, all threads) a process has used, in µs. */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

/** The pid that serves: the process itself, or for a nodicorn master its one worker. */
function servingPid(pid) {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children ? Number(children.split(/\s+/)[0]) : pid;
}

/** Starts a server process and resolves with its URL and serving pid once its output names the port. */
function start(command, args, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.push(child);
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const match = out.match(pattern);
      if (match && /Ready|listening/.test(out)) resolve({ url: `http://127.0.0.1:${match[1]}/`, pid: servingPid(child.pid) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}):\n${out}`)));
  });
}

/** One wrk run: requests/s, and the server's CPU µs per request over the run. */
async function wrk({ url, pid }, duration) {
  const cpuBefore = cpuMicros(pid);
  const { stdout } = await run('wrk', [`-t${values.threads}`, `-c${values.connections}`, `-d${duration}`, url]);
  const cpu = cpuMicros(pid) - cpuBefore;
  const rate = stdout.match(/Requests\/sec:\s+([\d.]+)/);
  const total = stdout.match(/(\d+) requests in/);
  if (!rate || !total) throw new Error(`unexpected wrk output:\n${stdout}`);
  if (/Non-2xx/.test(stdout)) throw new Error(`non-2xx answers from ${url}:\n${stdout}`);
  const timeouts = Number(stdout.match(/timeout (\d+)/)?.[1] ?? 0);
  return { rps: Number(rate[1]), cpuPerRequest: cpu / Number(total[1]), timeouts };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function stopAll() {
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

const rows = [];
try {
  for (const kind of kinds) {
    const contenders = {
      plain: await start(process.execPath, [`${HERE}plain-server.mjs`, kind], /listening (\d+)/),
      nodicorn: await start(process.execPath, [NODICORN, '-w', '1', '-b', '127.0.0.1:0', '--chdir', `${HERE}apps`, `${kind}.mjs:app`], /Listening at: http:\/\/127\.0\.0\.1:(\d+)/),
    };
    const results = { plain: [], nodicorn: [] };
    for (const contender of Object.values(contenders)) await wrk(contender, '1s'); // warm-up: JIT, connection setup
    for (let round = 0; round < Number(values.rounds); round++) {
      // Alternate who goes first so a slow spell on the machine does not always favour one side.
      const order = round % 2 === 0 ? ['plain', 'nodicorn'] : ['nodicorn', 'plain'];
      for (const name of order) results[name].push(await wrk(contenders[name], values.duration));
    }
    const summary = (list) => ({ rps: median(list.map((r) => r.rps)), cpu: median(list.map((r) => r.cpuPerRequest)), timeouts: list.reduce((n, r) => n + r.timeouts, 0) });
    const plain = summary(results.plain);
    const nodicorn = summary(results.nodicorn);
    rows.push({ kind, plain, nodicorn, target: TARGETS[kind], rounds: results });
    stopAll();
    children.length = 0;
  }
} finally {
  stopAll();
}

const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`\nwrk -t${values.threads} -c${values.connections} -d${values.duration}, ${values.rounds} alternated rounds, medians; nodicorn -w 1 vs one plain process; load average ${load}\n`);
console.log('| framework | own server req/s | nodicorn req/s | ratio | own server CPU µs/req | nodicorn CPU µs/req | CPU ratio (own/nodicorn) | target |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { kind, plain, nodicorn, target } of rows) {
  const ratio = nodicorn.rps / plain.rps;
  const cpuRatio = plain.cpu / nodicorn.cpu;
  console.log(`| ${kind} | ${plain.rps.toFixed(0)} | ${nodicorn.rps.toFixed(0)} | ${ratio.toFixed(3)} | ${plain.cpu.toFixed(1)} | ${nodicorn.cpu.toFixed(1)} | ${cpuRatio.toFixed(3)} | ≥${target.toFixed(2)} |`);
}
console.log('\nper round, req/s (own / nodicorn), and wrk timeouts:');
for (const r of rows) {
  const pairs = r.rounds.plain.map((p, i) => `${p.rps.toFixed(0)}/${r.rounds.nodicorn[i].rps.toFixed(0)}`).join('  ');
  console.log(`  ${r.kind}: ${pairs}   timeouts ${r.plain.timeouts}/${r.nodicorn.timeouts}`);
}
