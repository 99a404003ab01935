// The loops that produce samples. Every round runs each contender in turn (start → wait until it
// answers → load → kill), alternating the order between rounds so no contender always goes first.
import { launch, shutdown } from './contenders.mjs';
import { runLoad } from './load.mjs';
import { childrenOf, cpuTicks, rssKb } from './proc.mjs';

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
const orderFor = (ids, round) => (round % 2 ? [...ids].reverse() : ids);
const emptySamples = (ids, rounds) => Object.fromEntries(ids.map((id) => [id, Array(rounds).fill(null)]));

/** Runs `fn(inst)` on a fresh launch of each contender per round; failures are logged, the round recorded as null. */
async function eachRound(ids, cfg, ctx, fn) {
  for (let round = 0; round < cfg.rounds; round++) {
    for (const id of orderFor(ids, round)) {
      const c = ctx.contenders.get(id);
      let launched;
      try {
        launched = await launch(c, ctx);
        await fn(id, round, launched);
      } catch (err) {
        log(`${id} round ${round + 1}: ${err.message.split('\n')[0]}`);
        ctx.failures.push(`${c.label}, round ${round + 1}: ${err.message.split('\n').slice(0, 3).join(' ')}`);
      } finally {
        if (launched) await shutdown(launched.inst);
      }
    }
    log(`${cfg.name}: round ${round + 1}/${cfg.rounds} done`);
  }
}

const spec = (inst, load, durationS) => ({
  url: inst.urls[load.via ?? 'http'] + load.path,
  connections: load.connections,
  threads: 1,
  durationS,
  headers: load.headers,
  method: load.method,
  bodyBytes: load.bodyBytes,
  tool: load.tool,
  streams: load.streams,
});

const WARM = { path: '/', connections: 10 };
const RELOAD_CAP_S = 180; // bounds a reload run whose manager never finishes reloading
const TICK_US = 10_000; // USER_HZ is 100 on Linux: /proc reports CPU time in 10 ms ticks

/**
 * Load scenarios sharing one launch per contender per round. Returns samples[scenarioId][contenderId][round]
 * (wrk's result plus the CPU time the server's processes spent per request, a cost that another
 * tenant's load skews far less than throughput)
 * and, per launch, the footprint: startup (spawn → first 2xx) and the RSS of the top process and
 * each direct child after the warm-up.
 */
export async function runLoadScenarios(name, scenarios, idsFor, cfg, ctx) {
  const ids = [...new Set(scenarios.flatMap((s) => idsFor(s)))];
  const samples = Object.fromEntries(scenarios.map((s) => [s.id, emptySamples(idsFor(s), cfg.rounds)]));
  const footprint = emptySamples(ids, cfg.rounds);
  await eachRound(ids, { ...cfg, name }, ctx, async (id, round, { inst, readyMs }) => {
    const mine = scenarios.filter((s) => idsFor(s).includes(id));
    await runLoad(ctx.loader, spec(inst, { ...WARM, via: mine[0].load.via }, cfg.warmupS));
    // RSS after the same warm-up for everyone (the scenarios that follow differ by contender under --quick).
    const pid = inst.leader.pid;
    footprint[id][round] = { readyMs, masterKb: rssKb(pid), workerKb: childrenOf(pid).map(rssKb) };
    const kids = childrenOf(pid);
    const before = kids.map(cpuTicks);
    for (const s of mine) {
      const procs = [pid, ...childrenOf(pid)];
      const t0 = procs.map(cpuTicks);
      const r = await runLoad(ctx.loader, spec(inst, s.load, cfg.durationS));
      const ticks = procs.reduce((acc, p, i) => acc + Math.max(0, cpuTicks(p) - t0[i]), 0);
      samples[s.id][id][round] = { ...r, cpuUsPerReq: r.requests ? (ticks * TICK_US) / r.requests : null };
    }
    // How evenly the workers shared the work: the busiest one's share of their CPU time.
    const used = kids.map((k, i) => cpuTicks(k) - before[i]);
    const sum = used.reduce((a, b) => a + b, 0);
    footprint[id][round].busiestShare = kids.length > 1 && sum > 0 ? Math.max(...used) / sum : null;
  });
  return { samples, footprint };
}

/** Fast and slow load at once (19:1 connections); the fast run's latency is the point. */
export async function runMixed(ids, cfg, ctx) {
  const samples = emptySamples(ids, cfg.rounds);
  await eachRound(ids, { ...cfg, name: 'mixed' }, ctx, async (id, round, { inst }) => {
    await runLoad(ctx.loader, spec(inst, WARM, cfg.warmupS));
    const [fast, slow] = await Promise.all([
      runLoad(ctx.loader, spec(inst, { path: '/', connections: 19 }, cfg.mixedS)),
      runLoad(ctx.loader, spec(inst, { path: '/slow', connections: 1 }, cfg.mixedS)),
    ]);
    samples[id][round] = { fast, slow };
  });
  return samples;
}

/** Resolves once none of `before` is a child of `pid` and as many children are back; rejects at the deadline. */
async function workersReplaced(pid, before, deadlineMs = 30_000) {
  const until = performance.now() + deadlineMs;
  for (;;) {
    const now = childrenOf(pid);
    if (now.length >= before.size && now.every((k) => !before.has(k))) return;
    if (performance.now() > until) throw new Error(`workers not replaced within ${deadlineMs} ms of a reload`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * `hups` reloads during one load run, each awaited until every worker pid has changed and spaced at
 * least `reloadS / (hups + 1)` apart; the load stops shortly after the last one, so every reload
 * happens under load whatever it costs.
 */
export async function runReload(ids, cfg, ctx) {
  const samples = emptySamples(ids, cfg.reloadRounds);
  await eachRound(ids, { ...cfg, rounds: cfg.reloadRounds, name: 'reload' }, ctx, async (id, round, { inst }) => {
    const c = ctx.contenders.get(id);
    await runLoad(ctx.loader, spec(inst, WARM, cfg.warmupS));
    let end;
    const stop = new Promise((r) => { end = r; });
    const gap = (cfg.reloadS * 1000) / (cfg.hups + 1);
    const load = runLoad(ctx.loader, { ...spec(inst, { path: '/', connections: 20 }, RELOAD_CAP_S), stop });
    let replaced = true;
    try {
      for (let i = 0; i < cfg.hups; i++) {
        // A schedule inside a timed load, not a wait for readiness.
        await new Promise((r) => setTimeout(r, gap));
        const before = new Set(childrenOf(inst.leader.pid));
        await c.reload(inst);
        await workersReplaced(inst.leader.pid, before).catch(() => { replaced = false; });
      }
      await new Promise((r) => setTimeout(r, gap));
    } finally {
      end();
    }
    const result = await load;
    // A load that hit its cap ended before the reloads did: say so rather than count failures short.
    if (result.seconds >= RELOAD_CAP_S - 1) throw new Error(`reloads outlasted the ${RELOAD_CAP_S} s load cap`);
    samples[id][round] = { ...result, replaced };
  });
  return samples;
}
