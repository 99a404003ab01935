import { describe, expect, it } from 'vitest';
import type { BlockedReport, WorkerMessage } from '../protocol.js';
import { defaultSettings } from '../settings/resolve.js';
import type { Settings } from '../settings/definitions.js';
import { Arbiter } from './arbiter.js';
import type { SpawnRequest, WorkerProcess } from './spawn-worker.js';

/** A worker process that exists only in memory: the test plays its part. */
class FakeWorker implements WorkerProcess {
  signals: NodeJS.Signals[] = [];
  #message?: (m: WorkerMessage) => void;
  #blocked?: (r: BlockedReport) => void;
  #exit?: (code: number | null, signal: NodeJS.Signals | null) => void;
  constructor(
    readonly pid: number,
    readonly request: SpawnRequest,
  ) {}
  sent: object[] = [];
  kill(signal: NodeJS.Signals) {
    this.signals.push(signal);
  }
  onOutput() {}
  send(message: object) {
    this.sent.push(message);
  }
  async sendConnection() {
    return true;
  }
  onMessage(l: (m: WorkerMessage) => void) {
    this.#message = l;
  }
  onBlocked(l: (r: BlockedReport) => void) {
    this.#blocked = l;
  }
  onExit(l: (code: number | null, signal: NodeJS.Signals | null) => void) {
    this.#exit = l;
  }
  /** The worker says something to the master. */
  say(m: WorkerMessage) {
    this.#message!(m);
  }
  block(r: BlockedReport) {
    this.#blocked!(r);
  }
  exit(code: number | null, signal: NodeJS.Signals | null = null) {
    this.#exit!(code, signal);
  }
}

function setup(overrides: Partial<Settings> = {}) {
  let now = 1_000_000;
  let nextPid = 100;
  const spawned: FakeWorker[] = [];
  const lines: string[] = [];
  const halts: number[] = [];
  const log = Object.fromEntries(['debug', 'info', 'warning', 'error', 'critical'].map((level) => [level, (m: string) => lines.push(`${level}: ${m}`)])) as never;
  const settings = { ...defaultSettings({}), app: 'app.js', workers: 2, timeout: 10, gracefulTimeout: 5, ...overrides };
  const arbiter = new Arbiter(settings, [], {
    spawn: (request) => {
      const worker = new FakeWorker(nextPid++, request);
      spawned.push(worker);
      return worker;
    },
    log,
    now: () => now,
    workerEnv: () => ({}),
    identity: {},
    onHalt: (code) => halts.push(code),
  });
  const live = () => spawned.filter((w) => arbiter.workers.has(w.pid));
  return {
    arbiter,
    spawned,
    lines,
    halts,
    live,
    advance: (ms: number) => {
      now += ms;
      arbiter.enqueue({ type: 'tick' });
    },
    signal: (signal: NodeJS.Signals) => arbiter.enqueue({ type: 'signal', signal }),
    readyAll: () => spawned.filter((w) => arbiter.workers.get(w.pid)?.state === 'booting').forEach((w) => w.say({ type: 'ready' })),
  };
}

describe('Arbiter', () => {
  it('boots the workers and is running once all are ready', () => {
    const t = setup();
    t.arbiter.start();
    expect(t.spawned).toHaveLength(2);
    expect(t.arbiter.state).toBe('booting');
    t.spawned[0]!.say({ type: 'ready' });
    expect(t.arbiter.state).toBe('booting');
    t.spawned[1]!.say({ type: 'ready' });
    expect(t.arbiter.state).toBe('running');
  });

  it('halts with exit 3 when a worker dies before it was ever ready, 4 when the app could not load', () => {
    for (const [code, expected] of [[3, 3], [4, 4], [1, 3]] as const) {
      const t = setup();
      t.arbiter.start();
      t.spawned[0]!.exit(code);
      expect(t.arbiter.state).toBe('stopping');
      expect(t.spawned[1]!.signals).toEqual(['SIGTERM']);
      t.spawned[1]!.exit(0);
      expect(t.halts).toEqual([expected]);
      expect(t.spawned).toHaveLength(2); // no respawn loop
    }
  });

  it('replaces a crashed worker at once, then backs off on repeated crashes', () => {
    const t = setup({ workers: 2 });
    t.arbiter.start();
    t.readyAll();
    t.spawned[0]!.exit(null, 'SIGKILL');
    expect(t.spawned).toHaveLength(3);
    t.readyAll();
    t.spawned[2]!.exit(1);
    expect(t.spawned).toHaveLength(3); // the slot's second crash within the window waits
    t.advance(150);
    expect(t.spawned).toHaveLength(4);
    expect(t.arbiter.restarts).toBe(2);
  });

  it('backs off per slot: a crash-looping slot waits alone, every other slot is refilled at once', () => {
    const t = setup({ workers: 2, timeout: 0 }); // no heartbeat kills while the clock jumps
    t.arbiter.start();
    t.readyAll();
    const slotOf = (w: FakeWorker) => t.arbiter.workers.get(w.pid)?.slot;
    const inSlot = (slot: number) => t.live().find((w) => slotOf(w) === slot);
    // Slot 1 crashes again and again: its waits double.
    for (let crash = 0; crash < 5; crash++) {
      t.advance(20_000); // whatever slot 1 waits for, it is refilled by now
      t.readyAll();
      inSlot(1)!.exit(null, 'SIGKILL');
    }
    expect(inSlot(1), 'slot 1 waits after its fifth crash in a minute').toBeUndefined();
    expect(t.lines.at(-1)).toMatch(/died unexpectedly .*; replacing it in \d+ ms/);
    // Slot 2's first crash in that minute: refilled at once, whatever slot 1 did.
    const before = t.spawned.length;
    inSlot(2)!.exit(null, 'SIGKILL');
    expect(t.spawned).toHaveLength(before + 1);
    expect(slotOf(t.spawned.at(-1)!)).toBe(2);
    expect(t.live()).toHaveLength(1);
    t.advance(10_000);
    expect(t.live(), 'slot 1 is refilled once its wait is over').toHaveLength(2);
    expect(new Set(t.live().map(slotOf))).toEqual(new Set([1, 2]));
  });

  it('never empties the pool for backoff: with every slot waiting, one worker is started at once', () => {
    const t = setup({ workers: 1, timeout: 0 });
    t.arbiter.start();
    for (let crash = 0; crash < 6; crash++) {
      t.readyAll();
      t.live()[0]!.exit(null, 'SIGKILL');
      expect(t.live(), `after crash ${crash + 1}`).toHaveLength(1);
    }
    expect(t.lines.join('\n')).toMatch(/Every worker slot is backing off after repeated crashes; starting one worker now/);
  });

  it('gives a replacement the slot of the worker it replaces', () => {
    const t = setup({ workers: 2 });
    t.arbiter.start();
    t.readyAll();
    const slots = t.spawned.map((w) => t.arbiter.workers.get(w.pid)!.slot);
    expect(slots.sort()).toEqual([1, 2]);
    t.signal('SIGHUP');
    const replacements = t.spawned.slice(2).map((w) => t.arbiter.workers.get(w.pid)!.slot);
    expect(replacements.sort()).toEqual([1, 2]);
  });

  it('replaces on HUP without losing capacity: old workers retire only when their replacements are ready', () => {
    const t = setup();
    t.arbiter.start();
    t.readyAll();
    const [a, b] = t.spawned;
    t.signal('SIGHUP');
    expect(t.arbiter.state).toBe('reloading');
    expect(t.spawned).toHaveLength(4);
    expect(a!.signals).toEqual([]);
    t.spawned[2]!.say({ type: 'ready' });
    expect(a!.signals).toEqual(['SIGTERM']);
    expect(b!.signals).toEqual([]);
    t.spawned[3]!.say({ type: 'ready' });
    expect(b!.signals).toEqual(['SIGTERM']);
    expect(t.arbiter.state).toBe('running');
    a!.exit(0);
    b!.exit(0);
    expect(t.spawned).toHaveLength(4); // retired workers are not respawned
  });

  it('a second HUP retires the first reload\'s still-booting replacement without calling it a failed boot', () => {
    const t = setup({ workers: 1 });
    t.arbiter.start();
    t.readyAll();
    t.signal('SIGHUP');
    const stale = t.spawned[1]!;
    t.signal('SIGHUP');
    expect(stale.signals).toEqual(['SIGTERM']);
    const fresh = t.spawned[2]!;
    stale.exit(0);
    expect(t.lines.filter((l) => l.startsWith('error:'))).toEqual([]);
    expect(t.spawned).toHaveLength(3); // no respawn for the retired replacement
    fresh.say({ type: 'ready' });
    expect(t.spawned[0]!.signals).toEqual(['SIGTERM']); // the old worker is retired for the fresh one
    expect(t.arbiter.state).toBe('running');
  });

  it('HUP while a respawned worker boots: that worker is replaced too before "Reload complete" (issue 12.7)', () => {
    const t = setup();
    t.arbiter.start();
    t.readyAll();
    t.spawned[0]!.exit(null, 'SIGKILL');
    const respawn = t.spawned[2]!;
    expect(t.arbiter.workers.get(respawn.pid)?.state).toBe('booting');
    const hupAt = t.spawned.length;
    t.signal('SIGHUP');
    expect(respawn.signals).toEqual(['SIGTERM']);
    respawn.say({ type: 'ready' }); // too late: it is retiring and must not count
    respawn.exit(0);
    t.readyAll();
    expect(t.lines.some((l) => l.includes('Reload complete'))).toBe(true);
    t.live().filter((w) => t.arbiter.workers.get(w.pid)?.state === 'retiring').forEach((w) => w.exit(0));
    const serving = t.live().filter((w) => t.arbiter.workers.get(w.pid)?.state === 'ready');
    expect(serving).toHaveLength(2);
    for (const w of serving) expect(t.spawned.indexOf(w)).toBeGreaterThanOrEqual(hupAt);
  });

  it('keeps the old workers when the new code fails to boot after HUP', () => {
    const t = setup({ workers: 1 });
    t.arbiter.start();
    t.readyAll();
    t.signal('SIGHUP');
    t.spawned[1]!.exit(3);
    expect(t.arbiter.state).toBe('running');
    expect(t.spawned[0]!.signals).toEqual([]);
    expect(t.halts).toEqual([]);
    expect(t.lines.some((l) => l.startsWith('error:') && l.includes('running workers keep serving'))).toBe(true);
  });

  it('recycles a worker that reached max_requests through the same path', () => {
    const t = setup({ workers: 1, maxRequests: 10 });
    t.arbiter.start();
    expect(t.spawned[0]!.request.config.maxRequests).toBe(10);
    t.readyAll();
    t.spawned[0]!.say({ type: 'recycle', reason: 'max_requests (10) reached' });
    expect(t.spawned).toHaveLength(2);
    expect(t.spawned[0]!.signals).toEqual([]);
    t.spawned[1]!.say({ type: 'ready' });
    expect(t.spawned[0]!.signals).toEqual(['SIGTERM']);
  });

  it('kills a worker silent past timeout, naming the request and the stack, and replaces it', () => {
    const t = setup({ workers: 1, timeout: 2 });
    t.arbiter.start();
    t.readyAll();
    t.spawned[0]!.block({ type: 'blocked', blockedMs: 1500, request: { method: 'GET', url: '/spin', startedAt: 1_000_000 }, stack: ['at spin (file:///app.js:3:5)'] });
    t.advance(1000);
    expect(t.spawned[0]!.signals).toEqual([]);
    t.advance(1500);
    expect(t.spawned[0]!.signals).toEqual(['SIGKILL']);
    expect(t.lines.find((l) => l.startsWith('critical:'))).toMatch(/WORKER TIMEOUT \(pid:100\): event loop blocked for 2\.5s while serving GET \/spin[\s\S]*at spin \(file:\/\/\/app\.js:3:5\)/);
    expect(t.spawned).toHaveLength(2);
  });

  it('adds and removes workers on TTIN and TTOU, retiring the oldest, never below one', () => {
    const t = setup({ workers: 1 });
    t.arbiter.start();
    t.readyAll();
    t.signal('SIGTTIN');
    expect(t.spawned).toHaveLength(2);
    t.readyAll();
    t.signal('SIGTTOU');
    expect(t.spawned[0]!.signals).toEqual(['SIGTERM']);
    t.spawned[0]!.exit(0);
    t.signal('SIGTTOU');
    expect(t.arbiter.desiredWorkers).toBe(1);
    expect(t.spawned[1]!.signals).toEqual([]);
  });

  it('stops gracefully on TERM, SIGKILLs stragglers at graceful_timeout, and halts with 0', () => {
    const t = setup({ gracefulTimeout: 1 });
    t.arbiter.start();
    t.readyAll();
    t.signal('SIGTERM');
    expect(t.spawned.map((w) => w.signals)).toEqual([['SIGTERM'], ['SIGTERM']]);
    t.spawned[0]!.exit(0);
    t.advance(2500);
    expect(t.spawned[1]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    t.spawned[1]!.exit(null, 'SIGKILL');
    expect(t.halts).toEqual([0]);
  });

  it('stops fast on INT and QUIT', () => {
    const t = setup();
    t.arbiter.start();
    t.readyAll();
    t.signal('SIGQUIT');
    expect(t.spawned.map((w) => w.signals)).toEqual([['SIGQUIT'], ['SIGQUIT']]);
  });

  it('retires a worker that overstays graceful_timeout with SIGKILL', () => {
    const t = setup({ workers: 1, gracefulTimeout: 1 });
    t.arbiter.start();
    t.readyAll();
    t.signal('SIGHUP');
    t.readyAll();
    expect(t.spawned[0]!.signals).toEqual(['SIGTERM']);
    t.advance(2100);
    expect(t.spawned[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('a worker retired while the others serve on is told so before its TERM (it stops accepting at once)', () => {
    const t = setup({ workers: 1 });
    t.arbiter.start();
    t.readyAll();
    t.signal('SIGHUP');
    t.readyAll();
    expect(t.spawned[0]!.sent).toEqual([{ type: 'retire' }]);
    expect(t.spawned[0]!.signals).toEqual(['SIGTERM']);
  });

  it('a worker holding more than its share of connections is told to shed the surplus; an even pool is left alone', () => {
    const t = setup({ workers: 3 });
    t.arbiter.start();
    t.readyAll();
    const [a, b, c] = t.spawned;
    a!.say({ type: 'load', requests: 900, connections: 30 });
    b!.say({ type: 'load', requests: 50, connections: 2 });
    t.advance(300);
    c!.say({ type: 'load', requests: 0, connections: 0 }); // a replacement: nothing yet
    const shed = (w: FakeWorker) => w.sent.filter((m) => (m as { type: string }).type === 'shed');
    expect(shed(a!)).toEqual([{ type: 'shed', connections: 19 }]); // its share is ceil(32 / 3) = 11
    expect(shed(b!)).toEqual([]);
    expect(shed(c!)).toEqual([]);
    for (const w of [b, c, a]) w!.say({ type: 'load', requests: 1000, connections: 11 }); // within the same 250 ms: no look
    t.advance(300);
    a!.say({ type: 'load', requests: 1000, connections: 11 });
    expect(t.spawned.flatMap(shed)).toHaveLength(1);
    expect(t.arbiter.status('x').workers.map((w) => w.requests)).toEqual([1000, 1000, 1000]);
  });

  it('timeout_quarantine: the request that timed a worker out is sent to every worker, and to one ready later', () => {
    const t = setup({ workers: 2, timeout: 1, timeoutQuarantine: 10 });
    t.arbiter.start();
    t.readyAll();
    const [stuck, other] = t.spawned;
    stuck!.say({ type: 'heartbeat', requests: 1, rss: 1, inflight: 1, oldest: { method: 'GET', url: '/spin', startedAt: 1_000_000 } });
    t.advance(1500);
    t.advance(1000); // no watchdog report: killed once its grace is over
    const quarantined = (w: FakeWorker) => w.sent.filter((m) => (m as { type: string }).type === 'quarantine');
    expect(stuck!.signals).toContain('SIGKILL');
    expect(quarantined(other!)).toEqual([{ type: 'quarantine', method: 'GET', url: '/spin', until: 1_000_000 + 2500 + 10_000 }]);
    expect(t.lines.some((l) => /GET \/spin timed a worker out: answered 503 for 10s/.test(l))).toBe(true);
    stuck!.exit(null, 'SIGKILL');
    t.readyAll();
    expect(quarantined(t.spawned[2]!)).toHaveLength(1);
  });

  it('stop_delay: TERM makes /readyz fail at once and stops the workers only after the delay; a second TERM stops now', () => {
    const t = setup({ workers: 2, stopDelay: 3 });
    t.arbiter.start();
    t.readyAll();
    expect(t.arbiter.readiness().ready).toBe(true);
    t.signal('SIGTERM');
    expect(t.arbiter.readiness()).toEqual({ ready: false, detail: 'stopping in 3s, 2/2 worker(s) serving' });
    expect(t.spawned.map((w) => w.signals)).toEqual([[], []]);
    t.advance(2000);
    expect(t.spawned.map((w) => w.signals)).toEqual([[], []]);
    t.advance(1000);
    expect(t.spawned.map((w) => w.signals)).toEqual([['SIGTERM'], ['SIGTERM']]);
    const again = setup({ workers: 1, stopDelay: 30 });
    again.arbiter.start();
    again.readyAll();
    again.signal('SIGTERM');
    again.signal('SIGTERM');
    expect(again.spawned[0]!.signals).toEqual(['SIGTERM']);
  });

  it('ready_workers: ready only with that many workers serving', () => {
    const t = setup({ workers: 3, readyWorkers: 2 });
    t.arbiter.start();
    t.spawned[0]!.say({ type: 'ready' });
    expect(t.arbiter.readiness().ready).toBe(false);
    t.spawned[1]!.say({ type: 'ready' });
    t.spawned[2]!.say({ type: 'ready' });
    expect(t.arbiter.readiness()).toEqual({ ready: true, detail: 'running, 3/3 worker(s) serving' });
    t.spawned[0]!.exit(null, 'SIGKILL');
    t.spawned[1]!.exit(null, 'SIGKILL');
    expect(t.arbiter.readiness().ready).toBe(false);
  });

  it('a timed-out worker waits a moment for its watchdog report (late on a starved host), and is killed as soon as it comes', () => {
    const t = setup({ workers: 1, timeout: 2 });
    t.arbiter.start();
    t.readyAll();
    const [worker] = t.spawned;
    t.advance(2100);
    expect(worker!.signals).toEqual([]); // past the timeout, no report yet
    worker!.block({ type: 'blocked', blockedMs: 2100, request: { method: 'GET', url: '/spin', startedAt: 1_000_000 }, stack: ['at app (file:///app.mjs:3:1)'] });
    expect(worker!.signals).toEqual(['SIGKILL']);
    expect(t.lines.find((l) => l.includes('WORKER TIMEOUT'))).toMatch(/blocked for 2\.1s while serving GET \/spin .*\n.*at app \(file:\/\/\/app\.mjs:3:1\)/s);
    const silent = setup({ workers: 1, timeout: 2 });
    silent.arbiter.start();
    silent.readyAll();
    silent.advance(2100);
    expect(silent.spawned[0]!.signals).toEqual([]);
    silent.advance(1000);
    expect(silent.spawned[0]!.signals).toEqual(['SIGKILL']); // no report at all: killed after the grace
  });
});
