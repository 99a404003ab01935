// The fairness row (issue 12 point 6): behind a proxy, pooled keep-alive connections stay on the
// worker that accepted them. Each worker's share is counted from the access log (one pid per line),
// over a steady window and over the window right after a worker is killed and replaced.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODICORN_BIN, SERVERS } from './contenders.mjs';
import { runLoad } from './load.mjs';
import { childrenOf, freePort, start, stop, waitReady } from './proc.mjs';

const PROXY_CONNECTIONS = 32;

/** Requests per worker pid in the access-log lines after the first `from`. */
export function requestsByWorker(lines, from = 0) {
  const counts = new Map();
  for (const line of lines.slice(from)) if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** Busiest over least busy, among `workers` (a worker that served nothing makes it Infinity). */
export function balanceRatio(counts, workers) {
  const served = workers.map((pid) => counts.get(`<${pid}>`) ?? 0);
  const least = Math.min(...served);
  return least ? Math.max(...served) / least : Infinity;
}

async function waitFor(probe, deadlineMs, what) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One server of `workers` workers behind `nodicorn proxy`: the steady ratio, then the one after a kill -9. */
async function measure(workers, cfg, ctx) {
  const dir = join(ctx.tmp, `fair-${workers}`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const sock = join(dir, 'app.sock');
  const accessLog = join(dir, 'access.log');
  const lines = () => readFileSync(accessLog, 'utf8').split('\n');
  const server = start(process.execPath, [NODICORN_BIN, '-w', String(workers), '-b', `unix:${sock}`, '--chdir', SERVERS,
    '--access-logfile', accessLog, '--access-logformat', '%(p)s', 'app.mjs:app']);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proxy = start(process.execPath, [NODICORN_BIN, 'proxy', '--workers', '1', '--listen', url, '--upstream', `unix:${sock}`]);
  try {
    await waitReady(server, { socketPath: sock, path: '/' });
    await waitReady(proxy, { url });
    const before = await waitFor(() => (childrenOf(server.pid).length === workers ? childrenOf(server.pid) : null), 15_000, 'the workers');
    const load = (durationS) => runLoad(ctx.loader, { url: `${url}/`, connections: PROXY_CONNECTIONS, threads: 1, durationS });
    await load(cfg.warmupS);
    const steadyFrom = lines().length - 1;
    const steady = await load(cfg.fairS);
    const steadyRatio = balanceRatio(requestsByWorker(lines(), steadyFrom), before);
    // A crash under load: the replacement starts with no connection; how soon does it get its share?
    const running = load(cfg.fairS + 4);
    await new Promise((r) => setTimeout(r, 1000));
    const victim = before[0];
    process.kill(victim, 'SIGKILL');
    const after = await waitFor(() => {
      const now = childrenOf(server.pid);
      return now.length === workers && !now.includes(victim) && /ready \(respawn/.test(server.output()) ? now : null;
    }, 15_000, 'the replacement');
    // Where the log stood at each second after the replacement was ready: the ratio per second.
    const marks = [lines().length - 1];
    for (let s = 0; s < cfg.fairS; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      marks.push(lines().length - 1);
    }
    await running;
    const all = lines();
    const slice = (from, to) => requestsByWorker(all.slice(0, to), from);
    const replacedRatio = balanceRatio(slice(marks[0], marks.at(-1)), after);
    const perSecond = marks.slice(1).map((to, i) => balanceRatio(slice(marks[i], to), after));
    const settled = perSecond.findIndex((_, i) => perSecond.slice(i).every((r) => r <= 1.5));
    const lastHalf = balanceRatio(slice(marks[Math.floor(marks.length / 2)], marks.at(-1)), after);
    return {
      id: `w${workers}`, label: `nodicorn proxy → nodicorn, ${workers} workers`, workers, rps: steady.rps, steadyRatio, replacedRatio, lastHalf,
      settledS: settled === -1 ? null : settled + 1, errors: steady.errors,
    };
  } finally {
    await stop(proxy);
    await stop(server);
  }
}

export async function runFairness(cfg, ctx) {
  const rows = [];
  for (const workers of [2, 4]) {
    try {
      rows.push(await measure(workers, cfg, ctx));
    } catch (err) {
      ctx.failures.push(`fairness, ${workers} workers: ${err.message.split('\n')[0]}`);
    }
  }
  return {
    id: 'fairness',
    title: `Fairness behind a proxy (${PROXY_CONNECTIONS} keep-alive connections)`,
    about: `wrk → \`nodicorn proxy\` → nodicorn over a Unix socket, the proxy pooling its upstream connections. Each worker's requests are counted from the access log: over ${cfg.fairS} s of steady load, and over the ${cfg.fairS} s after one worker is \`kill -9\`ed and its replacement is ready. Ratio = busiest worker's requests / least busy worker's (1.00 is perfectly even; target ≤ 1.5).`,
    columns: [
      { key: 'label', label: 'setup', align: 'left' },
      { key: 'rps', label: 'req/s' },
      { key: 'steadyRatio', label: 'busiest/least, steady', digits: 2 },
      { key: 'replacedRatio', label: 'busiest/least, the window after a replacement', digits: 2 },
      { key: 'lastHalf', label: 'same, its second half', digits: 2 },
      { key: 'settledS', label: 'even (≤ 1.5 every second) after', suffix: ' s' },
      { key: 'errors', label: 'errors' },
    ],
    rows,
  };
}
