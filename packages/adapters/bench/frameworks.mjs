#!/usr/bin/env node
// Hello-world throughput of each framework on nodicorn (1 worker) against the same framework on its
// own node:http server (1 process), measured with wrk, contenders alternated round by round so drift
// on the machine hits both. Prints a markdown table of median requests/s.
//
//   node packages/adapters/bench/frameworks.mjs [--rounds 3] [--duration 5s] [--connections 50] [--only express,koa]
//
// Needs `wrk` on PATH and a build (`pnpm build`).
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const NODICORN = fileURLToPath(new URL('../../cli/bin/nodicorn.js', import.meta.url));
const TARGETS = { express: 0.95, koa: 0.95, hono: 0.9, fetch: 0.9 };

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

/** Starts a server process and resolves with its URL once its output names the port. */
function start(command, args, pattern) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.push(child);
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const match = out.match(pattern);
      if (match && /Ready|listening/.test(out)) resolve(`http://127.0.0.1:${match[1]}/`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}):\n${out}`)));
  });
}

async function wrk(url, duration) {
  const { stdout } = await run('wrk', [`-t${values.threads}`, `-c${values.connections}`, `-d${duration}`, url]);
  const match = stdout.match(/Requests\/sec:\s+([\d.]+)/);
  if (!match) throw new Error(`unexpected wrk output:\n${stdout}`);
  if (/Non-2xx|Socket errors/.test(stdout)) console.error(`warning: errors against ${url}:\n${stdout}`);
  return Number(match[1]);
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
    for (const url of Object.values(contenders)) await wrk(url, '1s'); // warm-up: JIT, connection setup
    for (let round = 0; round < Number(values.rounds); round++) {
      // Alternate who goes first so a slow spell on the machine does not always favour one side.
      const order = round % 2 === 0 ? ['plain', 'nodicorn'] : ['nodicorn', 'plain'];
      for (const name of order) results[name].push(await wrk(contenders[name], values.duration));
    }
    const plain = median(results.plain);
    const nodicorn = median(results.nodicorn);
    rows.push({ kind, plain, nodicorn, ratio: nodicorn / plain, target: TARGETS[kind], rounds: results });
    stopAll();
    children.length = 0;
  }
} finally {
  stopAll();
}

console.log(`\nwrk -t${values.threads} -c${values.connections} -d${values.duration}, ${values.rounds} alternated rounds, median req/s; nodicorn -w 1 vs one plain process\n`);
console.log('| framework | own node:http server | nodicorn (1 worker) | ratio | target |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.kind} | ${r.plain.toFixed(0)} | ${r.nodicorn.toFixed(0)} | ${r.ratio.toFixed(3)} | ≥${r.target.toFixed(2)} ${r.ratio >= r.target ? 'met' : 'MISSED'} |`);
}
console.log('\nper round (plain / nodicorn):');
for (const r of rows) console.log(`  ${r.kind}: ${r.rounds.plain.map((p, i) => `${p.toFixed(0)}/${r.rounds.nodicorn[i].toFixed(0)}`).join('  ')}`);
