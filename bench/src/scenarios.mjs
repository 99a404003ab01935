// What is measured: the scenarios, their contenders and baselines, and how rows and targets are
// derived from the raw samples. Pure: the loops that produce samples live in runners.mjs.
import { STATIC_PATH } from './fixtures.mjs';
import { GZIP_LEVEL, LIMITED } from './nginx.mjs';
import { median, medianRatio, ratio, ratioSpread, summarizeLoad, total, verdict } from './stats.mjs';

const isNodicornServer = (id) => id === 'nodicorn' || (id.startsWith('nodicorn-') && id !== 'nodicorn-proxy');
const CORE = (id) => isNodicornServer(id) || id === 'node-http' || id === 'cluster-rr';
const QUICK = { all: () => true, core: CORE, churn: (id) => CORE(id) || id === 'pm2' || id === 'gunicorn-sync' };

const LOAD_COLUMNS = (baselineLabel) => [
  { key: 'label', label: 'contender', align: 'left' },
  { key: 'rps', label: 'req/s', digits: 0 },
  { key: 'p50Ms', label: 'p50 ms', digits: 2 },
  { key: 'p99Ms', label: 'p99 ms', digits: 2 },
  { key: 'errors', label: 'errors', digits: 0 },
  { key: 'ratio', label: `ratio vs ${baselineLabel}`, digits: 2, suffix: '×' },
  { key: 'spread', label: 'ratio range over rounds' },
  { key: 'cpuUsPerReq', label: 'server CPU µs/req', digits: 0 },
  { key: 'cpuRatio', label: 'CPU/req vs baseline', digits: 2, suffix: '×' },
];

/**
 * Throughput scenarios against the app contenders, all measured on one launch of each contender.
 * `quick` names who runs it under --quick (to fit ~2 minutes): 'all', 'churn' (the core plus PM2 and
 * Gunicorn sync) or 'core' (node:http, node:cluster round-robin and every nodicorn server).
 */
export const APP_SCENARIOS = [
  { id: 'hello', title: 'Hello, keep-alive', about: 'GET / (14-byte body) on 50 kept-alive connections.', load: { path: '/', connections: 50 }, baseline: 'cluster-rr', quick: 'all' },
  { id: 'churn', title: 'Connection churn', about: 'GET / with `Connection: close`: one TCP connection per request, 50 at a time.', load: { path: '/', connections: 50, headers: { Connection: 'close' } }, baseline: 'node-http', quick: 'churn' },
  { id: '16k', title: '16 KB responses', about: 'GET /16k on 50 kept-alive connections.', load: { path: '/16k', connections: 50 }, baseline: 'cluster-rr', quick: 'core' },
  { id: '1m', title: '1 MB responses', about: 'GET /1m on 10 kept-alive connections.', load: { path: '/1m', connections: 10 }, baseline: 'cluster-rr', quick: 'core' },
  { id: 'post', title: 'POST 64 KB bodies', about: 'POST /upload with a 64 KB body (wrk lua script), 20 connections; the app reads the whole body.', load: { path: '/upload', connections: 20, method: 'POST', bodyBytes: 64 * 1024 }, baseline: 'cluster-rr', quick: 'core' },
];

export const PROXY_SCENARIOS = [
  { id: 'proxy-plain', title: 'Proxy: plain HTTP', about: 'GET / through the proxy to a 2-worker nodicorn server on a Unix socket, 50 kept-alive client connections; two proxy processes each, nginx `worker_processes 2` against `nodicorn proxy --workers 2` (its workers under nodicorn\'s master, sharing the listening sockets), as in every proxy scenario.', load: { via: 'http', path: '/', connections: 50 }, baseline: 'nginx' },
  { id: 'proxy-tls', title: 'Proxy: TLS', about: 'As plain, over HTTPS (RSA 2048 self-signed, kept-alive so handshakes amortise).', load: { via: 'https', path: '/', connections: 50 }, baseline: 'nginx' },
  { id: 'proxy-h2', title: 'Proxy: HTTP/2', about: 'GET / over HTTP/2 with h2load: 10 TLS connections × 10 concurrent streams (100 in flight), same upstream; nginx with `listen … ssl http2`. h2load reports no percentiles, so p50/p99 are blank.', load: { via: 'https', path: '/', connections: 10, streams: 10, tool: 'h2load' }, baseline: 'nginx' },
  { id: 'proxy-gzip', title: 'Proxy: gzip of a 50 KB JSON', about: `GET /json50k (application/json, ~50 KB) proxied with \`Accept-Encoding: gzip\`, compressed on the fly by the proxy at gzip level ${GZIP_LEVEL} (nginx: \`gzip on; gzip_comp_level ${GZIP_LEVEL}\`), 50 kept-alive connections.`, load: { via: 'http', path: '/json50k', connections: 50, headers: { 'Accept-Encoding': 'gzip' } }, baseline: 'nginx' },
  { id: 'proxy-ratelimited', title: 'Proxy: rate-limited route', about: `GET ${LIMITED.prefix} through a route limited to ${LIMITED.rate} burst ${LIMITED.burst} nodelay per client address (nginx: \`limit_req_zone $binary_remote_addr … rate=${LIMITED.rate}; limit_req … burst=${LIMITED.burst} nodelay\`): a limit wrk never reaches, so the row is plain forwarding plus what the limiter costs. 50 kept-alive connections.`, load: { via: 'http', path: LIMITED.prefix, connections: 50 }, baseline: 'nginx' },
  { id: 'proxy-static', title: 'Proxy: 5 KB static file', about: `GET ${STATIC_PATH} served by the proxy itself from disk, 50 kept-alive connections.`, load: { via: 'http', path: STATIC_PATH, connections: 50 }, baseline: 'nginx' },
];

/** Which available contenders a scenario runs, in table order. */
export function scenarioContenders(scenario, available, quick) {
  return [...available.values()]
    .filter((c) => (scenario.baseline === 'nginx' ? c.proxy : !c.proxy))
    .filter((c) => !quick || !scenario.quick || QUICK[scenario.quick](c.id))
    .map((c) => c.id);
}

/** The mixed load's baseline: nodicorn's round-robin dispatch once it exists, else the default. */
export function mixedBaseline(ids) {
  return ids.includes('nodicorn-round-robin') ? 'nodicorn-round-robin' : ids.find(isNodicornServer);
}

export function mixedContenders(available) {
  return [...available.keys()].filter((id) => isNodicornServer(id) || ['cluster-rr', 'gunicorn-sync'].includes(id));
}

export function reloadContenders(available) {
  return [...available.keys()].filter((id) => isNodicornServer(id) || ['pm2', 'gunicorn-sync'].includes(id));
}

export function loadTable(scenario, samples, labels) {
  const base = samples[scenario.baseline];
  const baselineLabel = labels.get(scenario.baseline) ?? scenario.baseline;
  const rows = Object.entries(samples).map(([id, s]) => ({ id, label: labels.get(id), ...summarizeLoad(s, base) }));
  return { id: scenario.id, title: scenario.title, about: scenario.about, baseline: scenario.baseline, columns: LOAD_COLUMNS(baselineLabel), rows };
}

export function mixedTable(samples, labels, baseline) {
  const fast = (id) => samples[id].map((s) => s?.fast ?? null);
  const slow = (id) => samples[id].map((s) => s?.slow ?? null);
  const rows = Object.keys(samples).map((id) => ({
    id,
    label: labels.get(id),
    fastRps: median(fast(id).map((s) => s?.rps)),
    fastP50: median(fast(id).map((s) => s?.p50Ms)),
    fastP99: median(fast(id).map((s) => s?.p99Ms)),
    slowRps: median(slow(id).map((s) => s?.rps)),
    slowP99: median(slow(id).map((s) => s?.p99Ms)),
    errors: total(fast(id), 'errors') + total(slow(id), 'errors'),
    ratio: baseline ? medianRatio(fast(id), fast(baseline), 'p99Ms') : null,
    spread: baseline ? ratioSpread(fast(id), fast(baseline), 'p99Ms') : null,
  }));
  return {
    id: 'mixed', title: 'Mixed load: 5% of connections burn 20 ms of CPU per request',
    about: 'Two wrk runs at once: 19 connections on the fast path (GET /) and 1 on /slow (20 ms of CPU per request). The column that matters is the p99 of the FAST requests; its ratio is lower-is-better.',
    baseline,
    columns: [
      { key: 'label', label: 'contender', align: 'left' },
      { key: 'fastRps', label: 'fast req/s', digits: 0 },
      { key: 'fastP50', label: 'fast p50 ms', digits: 2 },
      { key: 'fastP99', label: 'fast p99 ms', digits: 2 },
      { key: 'slowRps', label: 'slow req/s', digits: 0 },
      { key: 'slowP99', label: 'slow p99 ms', digits: 2 },
      { key: 'errors', label: 'errors', digits: 0 },
      { key: 'ratio', label: `fast p99 vs ${labels.get(baseline) ?? '—'}`, digits: 2, suffix: '×' },
      { key: 'spread', label: 'ratio range over rounds' },
    ],
    rows,
  };
}

export function reloadTable(samples, labels, hups) {
  const rows = Object.entries(samples).map(([id, s]) => {
    const ran = s.filter(Boolean);
    return {
      id,
      label: labels.get(id),
      requests: total(ran, 'requests'),
      failed: total(ran, 'errors'),
      detail: ran.map((r) => `non-2xx ${r.non2xx}, connect ${r.socketErrors.connect}, read ${r.socketErrors.read}, write ${r.socketErrors.write}, timeout ${r.socketErrors.timeout}`).join('; ') || '—',
      rps: median(ran.map((r) => r.rps)),
      seconds: median(ran.map((r) => r.seconds)),
      replaced: ran.length ? (ran.every((r) => r.replaced) ? 'yes' : 'NO') : '—',
    };
  });
  return {
    id: 'reload', title: `Reload under load: ${hups} reloads`,
    about: `GET / on 20 kept-alive connections while the manager reloads all workers ${hups} times (nodicorn and Gunicorn: HUP to the master; PM2: \`pm2 reload\`), each reload awaited until every worker pid has changed ("workers replaced"), then a pause; the load ends one pause after the last. Any failed request is a miss. req/s is over the whole run, reloads included.`,
    columns: [
      { key: 'label', label: 'contender', align: 'left' },
      { key: 'requests', label: 'requests', digits: 0 },
      { key: 'failed', label: 'failed', digits: 0 },
      { key: 'detail', label: 'failures by kind', align: 'left' },
      { key: 'rps', label: 'req/s', digits: 0 },
      { key: 'seconds', label: 'load s', digits: 1 },
      { key: 'replaced', label: 'workers replaced', align: 'left' },
    ],
    rows,
  };
}

export function footprintTable(samples, labels, baseline = 'cluster-rr') {
  const rows = Object.entries(samples).map(([id, s]) => {
    const ran = s.filter(Boolean);
    const m = (f) => median(ran.map(f));
    return {
      id,
      label: labels.get(id),
      startupMs: m((r) => r.readyMs),
      masterMb: m((r) => r.masterKb / 1024),
      workers: m((r) => r.workerKb.length),
      workerMb: m((r) => (r.workerKb.length ? r.workerKb.reduce((a, b) => a + b, 0) / r.workerKb.length / 1024 : null)),
      totalMb: m((r) => (r.masterKb + r.workerKb.reduce((a, b) => a + b, 0)) / 1024),
      busiest: m((r) => (r.busiestShare == null ? null : r.busiestShare * 100)),
    };
  });
  const base = rows.find((r) => r.id === baseline);
  for (const r of rows) {
    r.startupRatio = ratio(r.startupMs, base?.startupMs);
    r.rssRatio = ratio(r.totalMb, base?.totalMb);
  }
  return {
    id: 'footprint', title: 'Memory and startup',
    about: 'Startup: spawn to the first 2xx answer (polled with real requests). RSS from /proc after the warm-up (1 s of GET / on 10 connections): the top process ("master"; PM2\'s is its daemon) and each direct child ("worker"), medians over rounds. "Busiest worker": that worker\'s share of all workers\' CPU time during the throughput scenarios (50% is an even split between 2 workers).',
    columns: [
      { key: 'label', label: 'contender', align: 'left' },
      { key: 'startupMs', label: 'startup ms', digits: 0 },
      { key: 'masterMb', label: 'master MB', digits: 1 },
      { key: 'workers', label: 'workers', digits: 0 },
      { key: 'workerMb', label: 'MB per worker', digits: 1 },
      { key: 'totalMb', label: 'total MB', digits: 1 },
      { key: 'busiest', label: 'busiest worker % of CPU', digits: 0 },
      { key: 'startupRatio', label: `startup vs ${labels.get(baseline)}`, digits: 2, suffix: '×' },
      { key: 'rssRatio', label: `RSS vs ${labels.get(baseline)}`, digits: 2, suffix: '×' },
    ],
    rows,
  };
}

function target(label, row, metric, op, goal, against) {
  const measured = row?.[metric] ?? null;
  const v = verdict(measured, op, goal);
  let measuredText = measured === null ? 'not measured' : `${row.label}: ${metric === 'failed' ? `${measured} failed` : `${measured.toFixed(2)}× ${against}`}`;
  if (row?.spread) measuredText += ` [rounds ${row.spread}]`;
  if (typeof row?.cpuRatio === 'number') measuredText += `; CPU per request ${row.cpuRatio.toFixed(2)}× the baseline's`;
  if (v === 'missed' && metric !== 'failed') {
    const by = op === '>=' ? (goal - measured) / goal : (measured - goal) / goal;
    measuredText += ` (short by ${(by * 100).toFixed(0)}%)`;
  }
  return { target: label, measured, measuredText, verdict: v };
}

/** The issue's targets, one line per nodicorn contender they apply to. */
export function targets(tables, labels, why) {
  const byId = Object.fromEntries(tables.map((t) => [t.id, t]));
  const rowsOf = (id, pred) => byId[id]?.rows.filter((r) => pred(r.id)) ?? [];
  const out = [];
  for (const r of rowsOf('hello', isNodicornServer)) out.push(target('keep-alive ≥ 0.95× node:cluster (round-robin)', r, 'ratio', '>=', 0.95, labels.get('cluster-rr')));
  for (const r of rowsOf('churn', isNodicornServer)) out.push(target('churn ≥ 0.90× raw node:http', r, 'ratio', '>=', 0.90, labels.get('node-http')));
  const mixed = byId.mixed;
  const sync = mixed?.rows.find((r) => r.id === 'nodicorn-sync');
  if (sync && mixed.baseline === 'nodicorn-round-robin') {
    out.push(target('mixed load: fast p99 with sync ≤ 0.5× round-robin', sync, 'ratio', '<=', 0.5, 'of round-robin\'s'));
  } else {
    out.push({ target: 'mixed load: fast p99 with sync ≤ 0.5× round-robin', measured: null, measuredText: why.mixed, verdict: 'not measured' });
  }
  const proxy = [['proxy-plain', 0.6, 'plain'], ['proxy-tls', 0.5, 'TLS'], ['proxy-h2', 0.5, 'HTTP/2'], ['proxy-static', 0.5, 'static'], ['proxy-gzip', 0.5, 'gzip']];
  for (const [id, goal, name] of proxy) {
    const row = byId[id]?.rows.find((r) => r.id === 'nodicorn-proxy');
    out.push(row ? target(`proxy ${name} ≥ ${goal.toFixed(2)}× nginx`, row, 'ratio', '>=', goal, 'nginx')
      : { target: `proxy ${name} ≥ ${goal.toFixed(2)}× nginx`, measured: null, measuredText: why.proxy, verdict: 'not measured' });
  }
  for (const r of rowsOf('reload', isNodicornServer)) out.push(target('zero failed requests across reloads', r, 'failed', '==', 0));
  for (const r of byId.fairness?.rows ?? []) {
    for (const [metric, when] of [['steadyRatio', 'steady'], ['lastHalf', 'in the second half of the window after a replacement']]) {
      const measured = r[metric];
      out.push({ target: `busiest/least worker ≤ 1.5, ${r.workers} workers, ${when}`, measured, measuredText: `${measured.toFixed(2)}`, verdict: verdict(measured, '<=', 1.5) });
    }
  }
  // Node-native frameworks are served with no translation; fetch-style ones pay for the Fetch bridge
  // in both contenders, but nodicorn's is @hono/node-server's too, so the same goal less a margin.
  for (const r of byId.frameworks?.rows ?? []) {
    const goal = ['hono', 'fetch'].includes(r.id) ? 0.9 : 0.95;
    out.push(target(`${r.id} on nodicorn ≥ ${goal.toFixed(2)}× its own listen() under node:cluster`, r, 'ratio', '>=', goal, 'own listen()'));
  }
  return out;
}

/** The frameworks scenario: one load scenario per framework, each with its nodicorn and its own-listen() contender. */
export function frameworkScenarios(kinds) {
  return kinds.map((kind) => ({ id: `fw-${kind}`, kind, load: { path: '/', connections: 50 }, baseline: `fw-cluster-${kind}` }));
}

/**
 * One row per framework: nodicorn (2 workers) against the same framework on its own listen() under
 * node:cluster (2 workers), ratios taken within each round. `samples` is runLoadScenarios' output.
 */
export function frameworksTable(kinds, samples) {
  const rows = kinds.map((kind) => {
    const own = samples[`fw-${kind}`]?.[`fw-cluster-${kind}`] ?? [];
    const ours = samples[`fw-${kind}`]?.[`fw-nodicorn-${kind}`] ?? [];
    const o = summarizeLoad(own, null);
    const n = summarizeLoad(ours, own);
    return {
      id: kind, label: kind,
      ownRps: o.rps, nodicornRps: n.rps, ratio: n.ratio, spread: n.spread,
      ownP99: o.p99Ms, nodicornP99: n.p99Ms, errors: o.errors + n.errors,
      ownCpu: o.cpuUsPerReq, nodicornCpu: n.cpuUsPerReq, cpuRatio: n.cpuRatio,
    };
  });
  return {
    id: 'frameworks', title: 'Frameworks: nodicorn vs their own listen() under node:cluster',
    about: 'GET / (a 13-byte hello world in each framework, packages/adapters/bench/apps) on 50 kept-alive connections. Each framework\'s bare export on nodicorn (2 workers) against the same app on its own listen() (app.listen, fastify.listen, NestJS app.listen, @hono/node-server serve) in 2 node:cluster workers. Ratio: nodicorn req/s over the baseline\'s, median of per-round ratios.',
    baseline: 'own listen() under node:cluster',
    columns: [
      { key: 'label', label: 'framework', align: 'left' },
      { key: 'ownRps', label: 'own listen() ×2 req/s', digits: 0 },
      { key: 'nodicornRps', label: 'nodicorn -w 2 req/s', digits: 0 },
      { key: 'ratio', label: 'ratio', digits: 2, suffix: '×' },
      { key: 'spread', label: 'ratio range over rounds' },
      { key: 'ownP99', label: 'own p99 ms', digits: 2 },
      { key: 'nodicornP99', label: 'nodicorn p99 ms', digits: 2 },
      { key: 'errors', label: 'errors', digits: 0 },
      { key: 'ownCpu', label: 'own CPU µs/req', digits: 0 },
      { key: 'nodicornCpu', label: 'nodicorn CPU µs/req', digits: 0 },
      { key: 'cpuRatio', label: 'CPU/req vs own', digits: 2, suffix: '×' },
    ],
    rows,
  };
}
