// pnpm bench [--quick] [--only hello,churn,frameworks,...] [--frameworks express,koa,...] — runs the scenarios and writes bench/results/latest.{md,json}.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { contenders, discover, FRAMEWORK_KINDS, frameworkContenders } from './src/contenders.mjs';
import { makeFixtures } from './src/fixtures.mjs';
import { detectLoader, hasH2load } from './src/load.mjs';
import { renderMarkdown, writeResults } from './src/report.mjs';
import { runFairness } from './src/fairness.mjs';
import { runIdleMemory } from './src/idle-memory.mjs';
import { runLoadScenarios, runMixed, runReload } from './src/runners.mjs';
import {
  APP_SCENARIOS, PROXY_SCENARIOS, footprintTable, frameworkScenarios, frameworksTable, loadTable, mixedBaseline, mixedContenders,
  mixedTable, reloadContenders, reloadTable, scenarioContenders, targets,
} from './src/scenarios.mjs';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    with: { type: 'string' },
    frameworks: { type: 'string' },
  },
});

const loader = detectLoader();
if (!loader) {
  console.error('bench: needs wrk (apt-get install wrk) or autocannon (pnpm add -D autocannon --filter @nodicorn/bench); found neither.');
  process.exit(2);
}

const cfg = opts.quick
  ? { rounds: 3, durationS: 1, warmupS: 1, mixedS: 2, reloadS: 5, reloadRounds: 1, hups: 5, fairS: 5 }
  : { rounds: 5, durationS: 5, warmupS: 2, mixedS: 6, reloadS: 15, reloadRounds: 2, hups: 5, fairS: 10 };
if (opts.rounds) cfg.rounds = Number(opts.rounds);
const only = opts.only ? new Set(opts.only.split(',')) : null;
const wanted = (id) => !only || only.has(id);

const found = discover();
const all = contenders(found);
// --with id,id keeps those contenders (and each scenario's baseline, which its ratios need).
const keep = opts.with ? new Set(opts.with.split(',')) : null;
const baselines = new Set(['cluster-rr', 'node-http', 'nginx']);
const available = keep ? new Map([...all].filter(([id]) => keep.has(id) || baselines.has(id))) : all;
const labels = new Map([...available.values()].map((c) => [c.id, c.label]));
const tmp = mkdtempSync(join(os.tmpdir(), 'ndc-bench-'));
chmodSync(tmp, 0o755); // nginx workers read the static file and certificate from here
process.once('exit', () => rmSync(tmp, { recursive: true, force: true })); // also on Ctrl-C (proc.mjs exits)
const ctx = { loader, contenders: available, tmp, fixtures: makeFixtures(tmp), failures: [] };

const absent = [];
if (!found.pm2) absent.push('PM2: not installed (bench optionalDependency failed, no global pm2)');
if (!found.gunicorn) absent.push('Gunicorn: not installed (apt-get install gunicorn)');
if (!found.nginx) absent.push('nginx: not installed');
if (!found.nodicorn.dispatch.length) absent.push('nodicorn `--dispatch shared|round-robin|reuse-port`: not in `nodicorn --help` yet; the nodicorn row is the built-in shared dispatch');
if (!found.nodicorn.sync) absent.push('nodicorn `--worker-class sync`: not in `nodicorn --help` yet');
if (!found.proxy.ok) absent.push(`nodicorn proxy: ${found.proxy.why}; the proxy tables show nginx alone`);

const h2loadFound = hasH2load();
const h2 = (id) => {
  if (!h2loadFound && !absent.some((a) => a.startsWith('h2load'))) absent.push(`h2load: not installed (apt-get install nghttp2-client); the ${id} row is not run`);
  return h2loadFound;
};

const started = performance.now();
const loadBefore = os.loadavg()[0];
const tables = [];
let footprintTable_;
{
  const app = APP_SCENARIOS.filter((s) => wanted(s.id));
  const appIds = (s) => scenarioContenders(s, available, opts.quick);
  if (app.length) {
    const { samples, footprint } = await runLoadScenarios('app', app, appIds, cfg, ctx);
    for (const s of app) tables.push(loadTable(s, samples[s.id], labels));
    footprintTable_ = footprintTable(footprint, labels);
  }
  if (wanted('mixed')) {
    const ids = mixedContenders(available);
    tables.push(mixedTable(await runMixed(ids, cfg, ctx), labels, mixedBaseline(ids)));
  }
  const proxy = PROXY_SCENARIOS.filter((s) => wanted(s.id) && (s.load.tool !== 'h2load' || h2(s.id)));
  const proxyIds = (s) => scenarioContenders(s, available, opts.quick);
  if (proxy.length && proxyIds(proxy[0]).length) {
    const { samples } = await runLoadScenarios('proxy', proxy, proxyIds, cfg, ctx);
    for (const s of proxy) tables.push(loadTable(s, samples[s.id], labels));
  }
  if (wanted('frameworks')) {
    const kinds = opts.frameworks ? opts.frameworks.split(',').filter((k) => FRAMEWORK_KINDS.includes(k)) : FRAMEWORK_KINDS;
    const fw = frameworkContenders(kinds);
    const scenarios = frameworkScenarios(kinds);
    const ids = (s) => [`fw-cluster-${s.kind}`, `fw-nodicorn-${s.kind}`];
    // Each framework's pair is its own scenario: a launch serves only its own framework's load.
    const samples = {};
    for (const s of scenarios) Object.assign(samples, (await runLoadScenarios(`frameworks ${s.kind}`, [s], ids, cfg, { ...ctx, contenders: fw })).samples);
    tables.push(frameworksTable(kinds, samples));
  }
  if (wanted('reload')) tables.push(reloadTable(await runReload(reloadContenders(available), cfg, ctx), labels, cfg.hups));
  if (wanted('fairness') && found.proxy.ok) tables.push(await runFairness(cfg, ctx));
  if (wanted('idle-memory') && found.proxy.ok && found.nginx) tables.push(await runIdleMemory(ctx, found.nginx));
  if (footprintTable_) tables.push(footprintTable_);
}

const why = {
  mixed: found.nodicorn.sync && found.nodicorn.dispatch.includes('round-robin')
    ? 'mixed scenario not run'
    : 'needs `--worker-class sync` and `--dispatch round-robin` in nodicorn (not there yet)',
  proxy: found.proxy.ok ? 'proxy scenario not run' : `needs \`nodicorn proxy\` (${found.proxy.why})`,
};
const results = {
  meta: {
    command: `pnpm bench${opts.quick ? ' --quick' : ''}${opts.only ? ` --only ${opts.only}` : ''}${opts.rounds ? ` --rounds ${opts.rounds}` : ''}${opts.with ? ` --with ${opts.with}` : ''}${opts.frameworks ? ` --frameworks ${opts.frameworks}` : ''}`,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    node: process.versions.node,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    loader,
    workers: 2,
    ...cfg,
    elapsedS: Math.round((performance.now() - started) / 1000),
    loadavg: [loadBefore, os.loadavg()[0]].map((l) => Number(l.toFixed(1))),
    detected: found,
    absent: [...absent, ...ctx.failures.map((f) => `failed: ${f}`)],
  },
  scenarios: tables,
  targets: targets(tables, labels, why),
};
const dir = join(import.meta.dirname, 'results');
writeResults(dir, results);
console.log(renderMarkdown(results));
console.error(`bench: wrote ${join(dir, 'latest.md')} and latest.json in ${results.meta.elapsedS} s`);
