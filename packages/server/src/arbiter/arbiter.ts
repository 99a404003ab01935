import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { EXIT } from '../errors.js';
import type { Logger } from '../logging/error-log.js';
import type { BlockedReport, QuarantineMessage, RequestInfo, RetireMessage, ShedMessage, WorkerMessage } from '../protocol.js';
import type { Settings } from '../settings/definitions.js';
import { callHook, type Hooks, type ServerInfo, type WorkerInfo } from '../settings/hooks.js';
import type { ServerStatus } from '../control/protocol.js';
import { addCounters, emptyCounters, type WorkerCounters } from '../metrics/counters.js';
import { renderPrometheus } from '../metrics/prometheus.js';
import type { AcceptMode } from '../sockets/accept-mode.js';
import type { Listener } from '../sockets/listeners.js';
import type { StatsdBatch } from '../metrics/statsd-batch.js';
import { maxRequestsFor, respawnDelayMs } from './backoff.js';
import type { SpawnWorker, WorkerProcess } from './spawn-worker.js';
import { MASTER_TRANSITIONS, WORKER_TRANSITIONS, transition, type MasterState, type WorkerState } from './states.js';

/** Why a worker is being started: it decides what a boot failure means. */
/** How long past --timeout a silent worker may live while its watchdog's report is on the way. */
const WATCHDOG_REPORT_GRACE_MS = 1_000;

export type SpawnPurpose = 'boot' | 'scale' | 'respawn' | 'replace' | 'reload';

export interface WorkerRecord {
  /** Sequential age, 1 for the first worker ever started. */
  readonly id: number;
  /**
   * The place in the pool it fills, 1..workers; a replacement takes the slot of the worker it
   * replaces. Crash backoff is kept per slot, so a slot that crash-loops waits alone.
   */
  readonly slot: number;
  readonly process: WorkerProcess;
  readonly purpose: SpawnPurpose;
  readonly spawnedAt: number;
  state: WorkerState;
  readyAt?: number;
  lastBeat: number;
  requests: number;
  rss: number;
  /** Open client connections, from its last load report. */
  connections?: number;
  oldest: RequestInfo | null;
  /** The newest watchdog report: where the worker's loop was stuck. */
  blocked?: BlockedReport;
  /** The worker this one stands in for; retired once this one is ready. */
  replaces?: WorkerRecord;
  /** The replacement booting for this worker; while set, this worker does not count toward capacity. */
  replacedBy?: WorkerRecord;
  /** Killed outright (timeout): no longer capacity, its exit is expected. */
  killed?: boolean;
  retireDeadline?: number;
  /** A failed replacement is tried again from this time. */
  replaceRetryAt?: number;
  replaceReason?: string;
  /** Sync class: serving the connection the master handed it. */
  busy?: boolean;
  /** A USR1 came while it booted: forwarded once it is ready (and surely handles it). */
  reopenLogsWhenReady?: boolean;
  /** With --metrics-bind: the worker's counters from its last heartbeat. */
  counters?: WorkerCounters;
}

export interface ArbiterDeps {
  readonly spawn: SpawnWorker;
  readonly log: Logger;
  readonly now: () => number;
  /** Builds the environment of a new worker. */
  readonly workerEnv: () => NodeJS.ProcessEnv;
  readonly identity: { uid?: number; gid?: number };
  /** Called once when the master has stopped all workers: close sockets, remove the pidfile, exit. */
  readonly onHalt: (exitCode: number) => void;
  /**
   * Called once when a stop begins: new connections must be refused from that moment (Unix socket
   * paths unlinked, the master's listening descriptors closed) while the workers drain.
   */
  readonly stopAccepting?: () => Promise<void> | void;
  /** Called on USR1, after the workers were told to reopen theirs. */
  readonly reopenLogs?: () => void;
  /** With capture_output: where the workers' stdout and stderr lines go (the error log). */
  readonly writeOutput?: (line: string) => void;
  /** The server's name in status output. */
  readonly name?: string;
  /** Who accepts connections; `master` makes the arbiter deal them out. Default `workers`. */
  readonly acceptMode?: AcceptMode;
  /** With --statsd-host: a worker's batch of counts, for the master's statsd sink. */
  readonly onStatsd?: (batch: StatsdBatch) => void;
}

export interface ArbiterEvents {
  state: [MasterState];
  'worker:ready': [WorkerRecord];
  'worker:exit': [WorkerRecord, number | null, NodeJS.Signals | null];
}

type ArbiterEvent =
  | { readonly type: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly type: 'message'; readonly worker: WorkerRecord; readonly message: WorkerMessage }
  | { readonly type: 'blocked'; readonly worker: WorkerRecord; readonly report: BlockedReport }
  | { readonly type: 'exit'; readonly worker: WorkerRecord; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly type: 'connection'; readonly socket: Socket }
  /** HUP, after the master re-read the config file. */
  | { readonly type: 'reload'; readonly settings: Settings; readonly hooks: Partial<Hooks> }
  | { readonly type: 'tick' };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * The master's supervision logic (Gunicorn's arbiter): one queue of events — signals, worker
 * messages, exits, timer ticks — handled one at a time by one handler each. It never touches HTTP.
 * Process creation, the clock and the logger are injected, so its decisions are testable as logic.
 */
export class Arbiter extends EventEmitter<ArbiterEvents> {
  state: MasterState = 'booting';
  readonly workers = new Map<number, WorkerRecord>();
  desiredWorkers: number;
  restarts = 0;
  readonly startedAt: number;
  #nextId = 1;
  #queue: ArbiterEvent[] = [];
  #dispatching = false;
  /** Recent crash times per slot, for that slot's backoff. */
  #slotCrashes = new Map<number, number[]>();
  /** When a slot that crashed may be filled again. */
  #slotRespawnAt = new Map<number, number>();
  /** A spawn that threw (EAGAIN, EMFILE) holds back every new worker for a moment: that is not one slot's fault. */
  #spawnFailedUntil = 0;
  #stopDeadline = 0;
  #exitCode: number = EXIT.OK;
  /** Connections the master accepted and no worker has taken yet (round-robin, sync). */
  #pending: Socket[] = [];
  /** A graceful stop waiting for the accepted connections to be dealt before it signals the workers. */
  #termWhenDealt = false;
  /** The master's listeners have closed since the stop began (nothing more can arrive). */
  #listenersClosed = false;
  /** Connections sent to a worker whose arrival is not confirmed yet. */
  #inTransit = 0;
  #retiredCounters = emptyCounters();
  /** Requests that timed a worker out and are refused until their time is up (timeout_quarantine). */
  #quarantined: QuarantineMessage[] = [];
  #balancedAt = 0;
  /** The current (or last) reload: when it began, and how many of its new workers failed to start. */
  #reloadStartedAt = 0;
  #reloadFailures = 0;
  /** stop_delay: when the graceful stop that a TERM asked for begins. */
  #stopAfter: number | undefined;
  /** The config file's hooks; replaced when HUP re-reads it. */
  hooks: Partial<Hooks> = {};
  #nextTurn = 0;

  constructor(
    public settings: Settings,
    readonly sockets: readonly Listener[],
    private readonly deps: ArbiterDeps,
  ) {
    super();
    this.desiredWorkers = settings.workers;
    this.startedAt = deps.now();
  }

  /** Enqueues an event; events are handled strictly one after another, never nested. */
  enqueue(event: ArbiterEvent): void {
    this.#queue.push(event);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (let next = this.#queue.shift(); next; next = this.#queue.shift()) this.#handle(next);
    } finally {
      this.#dispatching = false;
    }
  }

  start(): void {
    this.deps.log.info(`Starting nodicorn (pid: ${process.pid}) with ${this.desiredWorkers} worker(s)`);
    for (const listener of this.sockets) listener.server?.on('connection', (socket) => this.enqueue({ type: 'connection', socket }));
    this.#maintainWorkers();
  }

  #handle(event: ArbiterEvent): void {
    switch (event.type) {
      case 'signal':
        return this.#onSignal(event.signal);
      case 'message':
        return this.#onMessage(event.worker, event.message);
      case 'blocked':
        event.worker.blocked = event.report;
        // A late report for a worker already past its timeout: act on it now, not at the next tick.
        if (this.settings.timeout > 0 && event.worker.state === 'ready' && !event.worker.killed && this.deps.now() - event.worker.lastBeat > this.settings.timeout * 1000) {
          this.#timeoutKill(event.worker, this.deps.now() - event.worker.lastBeat);
        }
        return;
      case 'exit':
        this.#onExit(event.worker, event.code, event.signal);
        return this.#dealConnections();
      case 'tick':
        return this.#onTick();
      case 'connection':
        return this.#onConnection(event.socket);
      case 'reload':
        this.hooks = event.hooks;
        return this.reload(event.settings);
    }
  }

  #setState(next: MasterState): void {
    if (next === this.state) return;
    this.state = transition(MASTER_TRANSITIONS, 'master', this.state, next);
    this.deps.log.debug(`master state -> ${next}`);
    this.emit('state', next);
  }

  #setWorkerState(worker: WorkerRecord, next: WorkerState): void {
    worker.state = transition(WORKER_TRANSITIONS, 'worker', worker.state, next);
    this.deps.log.debug(`worker ${worker.process.pid} state -> ${next}`);
  }

  /** What hooks see of the server. */
  serverInfo(): ServerInfo {
    return { pid: process.pid, settings: this.settings, log: this.deps.log, workerPids: [...this.workers.keys()] };
  }

  #hook<K extends keyof Hooks>(name: K, ...args: Parameters<Hooks[K]>): void {
    callHook(this.hooks, name, this.deps.log, ...args);
  }

  #setDesired(count: number): void {
    const old = this.desiredWorkers;
    if (count === old) return;
    this.desiredWorkers = count;
    this.#hook('nworkersChanged', this.serverInfo(), count, old);
  }

  // ---- signals (Gunicorn's table) -------------------------------------------------------------

  #onSignal(signal: NodeJS.Signals): void {
    if (this.state === 'stopping' || this.state === 'halted') {
      // A second INT/QUIT during a graceful stop hurries it up, as Gunicorn does.
      if (signal === 'SIGINT' || signal === 'SIGQUIT') this.#stop(false, this.#exitCode, 'second stop signal');
      return;
    }
    switch (signal) {
      case 'SIGTERM':
        if (this.settings.stopDelay > 0 && this.#stopAfter === undefined && this.state !== 'booting') {
          // stop_delay: unready first, stop later. A second TERM stops now.
          this.#stopAfter = this.deps.now() + this.settings.stopDelay * 1000;
          this.deps.log.info(`Handling signal: term. /readyz fails now; the graceful stop begins in ${this.settings.stopDelay}s (--stop-delay)`);
          return;
        }
        return this.#stop(true, EXIT.OK, 'SIGTERM');
      case 'SIGINT':
      case 'SIGQUIT':
        return this.#stop(false, EXIT.OK, signal);
      case 'SIGHUP':
        return this.reload();
      case 'SIGTTIN':
        this.#setDesired(this.desiredWorkers + 1);
        this.deps.log.info(`SIGTTIN: workers ${this.desiredWorkers - 1} -> ${this.desiredWorkers}`);
        return this.#maintainWorkers('scale');
      case 'SIGTTOU':
        if (this.desiredWorkers <= 1) {
          this.deps.log.info('SIGTTOU ignored: nodicorn keeps at least one worker');
          return;
        }
        this.#setDesired(this.desiredWorkers - 1);
        this.deps.log.info(`SIGTTOU: workers ${this.desiredWorkers + 1} -> ${this.desiredWorkers}`);
        return this.#maintainWorkers();
      case 'SIGUSR1':
        this.deps.reopenLogs?.();
        this.deps.log.info('SIGUSR1: log files reopened');
        // Only a ready worker surely has its handler: one that has just been forked may not have
        // run its boot module yet, and USR1 would open its inspector. It reopens once it is ready.
        for (const worker of this.#live()) {
          if (worker.state === 'ready') worker.process.kill('SIGUSR1');
          else if (worker.state === 'booting') worker.reopenLogsWhenReady = true;
        }
        return;
      default:
        this.deps.log.debug(`ignoring ${signal}`);
    }
  }

  // ---- worker reports ---------------------------------------------------------------------------

  #onMessage(worker: WorkerRecord, message: WorkerMessage): void {
    worker.lastBeat = this.deps.now();
    switch (message.type) {
      case 'ready':
        return this.#onReady(worker);
      case 'heartbeat':
        worker.blocked = undefined; // its loop runs again: an earlier report is history
        worker.requests = message.requests;
        worker.rss = message.rss;
        worker.oldest = message.oldest;
        if (message.counters) worker.counters = message.counters;
        return;
      case 'load':
        worker.requests = message.requests;
        worker.connections = message.connections;
        if (message.statsd) this.deps.onStatsd?.(message.statsd);
        if (this.state === 'running') this.#balance();
        return;
      case 'recycle':
        if (worker.state === 'ready' && !worker.replacedBy && !worker.killed) this.replace(worker, message.reason);
        return;
      case 'free':
        worker.busy = false;
        return this.#dealConnections();
      case 'stats':
        worker.process.send({ type: 'stats', id: message.id, status: this.status(this.deps.name ?? '') });
        return;
    }
  }

  #onReady(worker: WorkerRecord): void {
    if (worker.state !== 'booting') return;
    this.#setWorkerState(worker, 'ready');
    for (const quarantined of this.#quarantined) if (quarantined.until > this.deps.now()) worker.process.send(quarantined);
    worker.readyAt = this.deps.now();
    this.deps.log.info(`Worker ${worker.process.pid} ready (${worker.purpose}, booted in ${worker.readyAt - worker.spawnedAt} ms)`);
    if (worker.reopenLogsWhenReady) {
      worker.reopenLogsWhenReady = undefined;
      worker.process.kill('SIGUSR1');
    }
    this.emit('worker:ready', worker);
    const old = worker.replaces;
    worker.replaces = undefined;
    if (old && old.state !== 'exited') this.#retire(old);
    this.#maintainWorkers();
    this.#settle();
    this.#dealConnections();
  }

  /** booting → running once every first worker is up; reloading → running once no reload is pending. */
  #settle(): void {
    const pending = [...this.workers.values()].some((w) => w.state === 'booting' && (w.purpose === 'boot' || w.purpose === 'reload'));
    if (pending) return;
    if (this.state === 'booting') {
      this.#setState('running');
      const where = this.sockets.map((l) => l.label).join(', ');
      this.deps.log.info(`Ready: ${this.#capacity().length} worker(s) serving ${where}`);
      this.#hook('whenReady', this.serverInfo());
    } else if (this.state === 'reloading') {
      this.#setState('running');
      const serving = this.#capacity();
      const old = serving.filter((w) => w.spawnedAt < this.#reloadStartedAt);
      if (this.#reloadFailures === 0) this.deps.log.info(`Reload complete: ${serving.length} worker(s) serving`);
      else {
        const still = old.length ? `; ${old.length} worker(s) from before the HUP still serve the previous code (pid ${old.map((w) => w.process.pid).join(', ')})` : '';
        this.deps.log.error(`Reload failed: ${this.#reloadFailures} new worker(s) did not start; ${serving.length - old.length} serve the new code${still}. Fix the app and send HUP again.`);
      }
    }
  }

  #onExit(worker: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    const wasState = worker.state;
    this.#setWorkerState(worker, 'exited');
    this.workers.delete(worker.process.pid);
    this.emit('worker:exit', worker, code, signal);
    if (worker.counters) addCounters(this.#retiredCounters, worker.counters);
    const info: WorkerInfo = { id: worker.id, pid: worker.process.pid, exitCode: code, signal };
    this.#hook('childExit', this.serverInfo(), info);
    this.#hook('workerExit', this.serverInfo(), info);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (this.state === 'stopping' || this.state === 'halted') {
      this.deps.log.info(`Worker ${worker.process.pid} exited (${how})`);
      return this.#finishStopIfDone();
    }
    // A boot failure's replacement bookkeeping: the worker it stood in for counts again. A failed
    // recycle (max_requests, memory) is tried again later; a failed reload is not, as in Gunicorn:
    // the next HUP is the retry.
    if (worker.replaces) {
      worker.replaces.replacedBy = undefined;
      if (worker.purpose !== 'reload') worker.replaces.replaceRetryAt = this.deps.now() + 5_000;
    }
    if (wasState === 'booting') {
      const reason = code === EXIT.APP_LOAD_ERROR ? 'App failed to load' : 'Worker failed to boot';
      if (this.state === 'booting') {
        const exitCode = code === EXIT.APP_LOAD_ERROR ? EXIT.APP_LOAD_ERROR : EXIT.WORKER_BOOT_ERROR;
        this.deps.log.error(`Worker ${worker.process.pid} exited before it was ready (${how}). ${reason}: halting.`);
        return this.#stop(true, exitCode, reason);
      }
      if (worker.purpose === 'reload') this.#reloadFailures++;
      // A running server keeps serving on its old workers: a broken deploy must not take it down.
      this.deps.log.error(`Worker ${worker.process.pid} (${worker.purpose}) exited before it was ready (${how}). ${reason}; the running workers keep serving.`);
      this.#backOff(worker.slot, 1_000);
      this.#settle();
      return this.#maintainWorkers();
    }
    if (wasState === 'retiring' || worker.killed) {
      this.deps.log.info(`Worker ${worker.process.pid} exited (${how})`);
      return this.#maintainWorkers();
    }
    this.restarts++;
    const delay = this.#backOff(worker.slot);
    this.deps.log.error(`Worker ${worker.process.pid} died unexpectedly (${how}); replacing it${delay ? ` in ${delay} ms` : ''}`);
    this.#maintainWorkers();
  }

  /** Records a crash of `slot` and returns how long that slot waits before it is filled again. */
  #backOff(slot: number, floorMs = 0): number {
    const now = this.deps.now();
    const crashes = [...(this.#slotCrashes.get(slot) ?? []).filter((t) => now - t < 60_000), now];
    this.#slotCrashes.set(slot, crashes);
    const delay = Math.max(floorMs, respawnDelayMs(crashes, now));
    this.#slotRespawnAt.set(slot, now + delay);
    return delay;
  }

  // ---- timers -----------------------------------------------------------------------------------

  #onTick(): void {
    const now = this.deps.now();
    if (this.#stopAfter !== undefined && now >= this.#stopAfter && this.state !== 'stopping' && this.state !== 'halted') this.#stop(true, EXIT.OK, 'SIGTERM');
    if (this.state === 'stopping') {
      this.#dealConnections();
      if (now >= this.#stopDeadline) {
        for (const worker of this.workers.values()) {
          this.deps.log.warning(`Worker ${worker.process.pid} still running at the stop deadline; sending SIGKILL`);
          worker.process.kill('SIGKILL');
        }
        this.#stopDeadline = Infinity;
      }
      return;
    }
    const timeoutMs = this.settings.timeout * 1000;
    for (const worker of this.workers.values()) {
      if (worker.killed) continue;
      if (worker.state === 'retiring' && worker.retireDeadline !== undefined && now >= worker.retireDeadline) {
        this.deps.log.warning(`Worker ${worker.process.pid} did not finish within graceful_timeout (${this.settings.gracefulTimeout}s); sending SIGKILL`);
        worker.killed = true;
        worker.process.kill('SIGKILL');
      } else if (timeoutMs > 0 && worker.state === 'ready' && now - worker.lastBeat > timeoutMs) {
        // The watchdog thread reports where the loop is stuck at 60% of the timeout; on a starved
        // host it can be late. Wait for it a moment: the kill without it names nothing.
        if (!worker.blocked && now - worker.lastBeat <= timeoutMs + WATCHDOG_REPORT_GRACE_MS) continue;
        this.#timeoutKill(worker, now - worker.lastBeat);
      } else if (timeoutMs > 0 && worker.state === 'booting' && now - worker.spawnedAt > Math.max(timeoutMs, 30_000)) {
        this.deps.log.error(`Worker ${worker.process.pid} did not become ready within ${seconds(now - worker.spawnedAt)}; killing it`);
        worker.process.kill('SIGKILL');
      } else if (worker.state === 'ready' && worker.replaceRetryAt !== undefined && now >= worker.replaceRetryAt && !worker.replacedBy) {
        worker.replaceRetryAt = undefined;
        this.replace(worker, worker.replaceReason ?? 'retry');
      }
    }
    this.#maintainWorkers();
  }

  /**
   * A fair share of the open connections for every serving worker. Pooled keep-alive connections
   * (a proxy's) stay on the worker that accepted them: after a crash or a reload the new worker
   * would sit at 0 req/s while the others hold everything. A worker over its share by more than an
   * eighth closes the surplus after their next responses (never mid-request), and the clients
   * reconnect to whichever worker accepts first, the least busy one most often (Puma's
   * wait_for_less_busy_worker, without a master hop per connection).
   */
  #balance(): void {
    // Load reports come every 250 ms from each worker; one look per 250 ms is enough.
    const now = this.deps.now();
    if (now - this.#balancedAt < 250) return;
    this.#balancedAt = now;
    const serving = [...this.workers.values()].filter((w) => w.state === 'ready' && !w.killed && !w.replacedBy && w.connections !== undefined);
    if (serving.length < 2) return;
    const share = Math.ceil(serving.reduce((sum, w) => sum + w.connections!, 0) / serving.length);
    for (const worker of serving) {
      const surplus = worker.connections! - share;
      if (surplus > Math.max(1, share / 8)) worker.process.send({ type: 'shed', connections: surplus } satisfies ShedMessage);
    }
  }

  /** The heartbeat is older than `timeout`: the worker's loop is stuck. Say where, then kill it. */
  #timeoutKill(worker: WorkerRecord, silentMs: number): void {
    const report = worker.blocked;
    const request = report?.request ?? worker.oldest;
    const age = request ? this.deps.now() - request.startedAt : Infinity;
    // The last beat may predate the request that blocked the loop: it cannot have blocked for longer
    // than it has existed.
    const blockedMs = Math.min(silentMs, age);
    const serving = request ? ` while serving ${request.method} ${request.url} (started ${seconds(age)} ago)` : '';
    const stack = report?.stack.length ? `\nJavaScript stack where the event loop was blocked:\n    ${report.stack.join('\n    ')}` : report?.error ? ` (no stack: ${report.error})` : '';
    this.deps.log.critical(`WORKER TIMEOUT (pid:${worker.process.pid}): event loop blocked for ${seconds(blockedMs)}${serving}${stack}`);
    if (request && this.settings.timeoutQuarantine > 0) this.#quarantine(request);
    this.#hook('workerAbort', this.serverInfo(), { id: worker.id, pid: worker.process.pid }, report);
    worker.killed = true;
    this.restarts++;
    worker.process.kill('SIGKILL');
    this.#maintainWorkers();
  }

  /** timeout_quarantine: every worker, and each one started while it lasts, refuses the request. */
  #quarantine(request: RequestInfo): void {
    const until = this.deps.now() + this.settings.timeoutQuarantine * 1000;
    const message: QuarantineMessage = { type: 'quarantine', method: request.method, url: request.url, until };
    this.#quarantined = [...this.#quarantined.filter((q) => q.until > this.deps.now() && (q.method !== message.method || q.url !== message.url)), message];
    this.deps.log.warning(`${request.method} ${request.url} timed a worker out: answered 503 for ${this.settings.timeoutQuarantine}s (--timeout-quarantine)`);
    for (const worker of this.#live()) if (!worker.killed) worker.process.send(message);
  }

  // ---- the one way to replace a worker ----------------------------------------------------------

  /**
   * Replaces a worker without losing capacity or requests: start the replacement, and only when it is
   * ready retire the old one gracefully. HUP, max_requests and TTOU all come through here.
   */
  replace(worker: WorkerRecord, reason: string, purpose: SpawnPurpose = 'replace'): void {
    if (worker.replacedBy || worker.state === 'retiring' || worker.state === 'exited' || worker.killed) return;
    this.deps.log.info(`Replacing worker ${worker.process.pid}: ${reason}`);
    worker.replaceReason = reason;
    const replacement = this.#spawn(purpose, worker.slot, worker);
    if (replacement) worker.replacedBy = replacement;
    else worker.replaceRetryAt = this.deps.now() + 5_000;
  }

  /** HUP: every current worker is replaced by one running fresh code and settings. */
  reload(settings?: Settings): void {
    if (this.state !== 'running' && this.state !== 'reloading') return;
    if (settings) {
      this.settings = settings;
      this.#setDesired(settings.workers);
    }
    this.deps.log.info('Handling signal: hup. Reloading workers');
    this.#hook('onReload', this.serverInfo());
    this.#setState('reloading');
    this.#reloadStartedAt = this.deps.now();
    this.#reloadFailures = 0;
    const before = [...this.workers.values()];
    for (const worker of before) {
      const stale = worker.replacedBy;
      if (stale && stale.state === 'booting') {
        // Its pending replacement loaded the code before this HUP: retire it (its exit is expected,
        // not a failed boot) and replace the worker afresh below.
        stale.replaces = undefined;
        worker.replacedBy = undefined;
        this.#retire(stale);
      }
      if (worker.state === 'ready') this.replace(worker, 'reload', 'reload');
    }
    // A worker still booting from before the HUP (a respawn after a crash, a TTIN) has loaded the old
    // code and settings: retire it and boot its slot afresh, so every worker serving after "Reload
    // complete" was started after the HUP.
    for (const worker of before) {
      if (worker.state !== 'booting' || worker.replaces || worker.purpose === 'reload') continue;
      this.#retire(worker);
      this.#spawn('reload', worker.slot);
    }
    this.#settle();
  }

  #retire(worker: WorkerRecord): void {
    if (worker.state === 'retiring' || worker.state === 'exited') return;
    this.#setWorkerState(worker, 'retiring');
    worker.retireDeadline = this.deps.now() + this.settings.gracefulTimeout * 1000 + 1000;
    worker.process.send({ type: 'retire' } satisfies RetireMessage);
    worker.process.kill('SIGTERM');
  }

  // ---- connections the master accepts (round-robin, sync) ---------------------------------------

  #onConnection(socket: Socket): void {
    // While a graceful stop drains the master's backlog, what it accepts is still dealt out.
    if (this.state === 'halted' || (this.state === 'stopping' && !this.#termWhenDealt)) {
      socket.destroy();
      return;
    }
    // Beyond the backlog the kernel would refuse too; keep memory bounded the same way.
    if (this.#pending.length >= this.settings.backlog) {
      socket.destroy();
      return;
    }
    this.#pending.push(socket);
    this.#dealConnections();
  }

  /** The worker to take the next connection: the next ready one in turn; for sync, only a free one. */
  #nextTaker(): WorkerRecord | undefined {
    const ready = [...this.workers.values()].filter((w) => w.state === 'ready' && !w.killed && !(this.settings.workerClass === 'sync' && w.busy));
    if (ready.length === 0) return undefined;
    return ready[this.#nextTurn++ % ready.length];
  }

  #dealConnections(): void {
    this.#dealPending();
    // TERM only once every dealt connection has reached its worker: one still in the pipe when the
    // worker drains would be lost with it.
    if (this.#termWhenDealt && this.#pending.length === 0 && this.#inTransit === 0 && (this.#listenersClosed || this.deps.acceptMode !== 'master')) {
      this.#termWhenDealt = false;
      for (const worker of this.#live()) worker.process.kill('SIGTERM');
    }
  }

  #dealPending(): void {
    for (let socket = this.#pending[0]; socket; socket = this.#pending[0]) {
      if (socket.destroyed) {
        this.#pending.shift();
        continue;
      }
      const worker = this.#nextTaker();
      if (!worker) return;
      this.#pending.shift();
      if (this.settings.workerClass === 'sync') worker.busy = true;
      this.#inTransit++;
      void worker.process.sendConnection(socket).then((taken) => {
        this.#inTransit--;
        if (taken) {
          if (this.#termWhenDealt) this.enqueue({ type: 'tick' });
          return;
        }
        // The worker went away between choosing and sending: deal the connection again.
        worker.busy = false;
        this.enqueue({ type: 'connection', socket });
      });
    }
  }

  // ---- capacity ---------------------------------------------------------------------------------

  #live(): WorkerRecord[] {
    return [...this.workers.values()].filter((w) => w.state !== 'exited');
  }

  /** Workers that count toward -w: booting or ready, not on their way out, not already replaced. */
  #capacity(): WorkerRecord[] {
    return this.#live().filter((w) => (w.state === 'booting' || w.state === 'ready') && !w.killed && !w.replacedBy);
  }

  /** Worker processes the master keeps now, booting or serving (statsd's gunicorn.workers gauge). */
  workerCount(): number {
    return this.#capacity().length;
  }

  /** Starts or retires workers until capacity matches -w; `purpose` labels the ones it starts. */
  #maintainWorkers(purpose: SpawnPurpose = 'respawn'): void {
    if (this.state === 'stopping' || this.state === 'halted') return;
    const capacity = this.#capacity();
    if (capacity.length < this.desiredWorkers) {
      const now = this.deps.now();
      if (now < this.#spawnFailedUntil) return;
      const taken = new Set(capacity.map((w) => w.slot));
      const waiting: number[] = [];
      let filled = capacity.length;
      for (let slot = 1, missing = this.desiredWorkers - capacity.length; missing > 0; slot++) {
        if (taken.has(slot)) continue;
        missing--;
        // A slot still backing off stays empty; the others are filled at once.
        if (now < (this.#slotRespawnAt.get(slot) ?? 0)) waiting.push(slot);
        else if (this.#spawn(this.state === 'booting' ? 'boot' : purpose, slot)) filled++;
        else return;
      }
      // Backoff never empties the pool: with every slot waiting, the one due first is filled now.
      if (filled === 0 && waiting.length > 0) {
        const due = waiting.sort((a, b) => (this.#slotRespawnAt.get(a) ?? 0) - (this.#slotRespawnAt.get(b) ?? 0))[0]!;
        this.deps.log.warning(`Every worker slot is backing off after repeated crashes; starting one worker now so the server is never without one`);
        this.#spawn(purpose, due);
      }
    } else if (capacity.length > this.desiredWorkers) {
      // TTOU retires the oldest worker, as Gunicorn does.
      const extra = capacity.sort((a, b) => a.id - b.id).slice(0, capacity.length - this.desiredWorkers);
      for (const worker of extra) {
        this.deps.log.info(`Retiring worker ${worker.process.pid} (workers -> ${this.desiredWorkers})`);
        this.#retire(worker);
      }
    }
  }

  #spawn(purpose: SpawnPurpose, slot: number, replaces?: WorkerRecord): WorkerRecord | undefined {
    const id = this.#nextId++;
    const s = this.settings;
    this.#hook('preFork', this.serverInfo(), { id });
    let child: WorkerProcess;
    try {
      child = this.deps.spawn({
        config: {
          id,
          settings: s,
          maxRequests: maxRequestsFor(s.maxRequests, s.maxRequestsJitter),
          acceptMode: this.deps.acceptMode ?? 'workers',
          reusePort: this.sockets.flatMap((l) => (l.reusePort ? [l.reusePort] : [])),
        },
        listenerFds: this.deps.acceptMode === 'master' ? [] : this.sockets.flatMap((l) => (l.fd !== undefined ? [l.fd] : [])),
        env: this.deps.workerEnv(),
        ...this.deps.identity,
      });
    } catch (err) {
      this.deps.log.error(`Could not start a worker: ${(err as Error).message}`);
      this.#spawnFailedUntil = this.deps.now() + 1_000;
      return undefined;
    }
    const now = this.deps.now();
    const worker: WorkerRecord = { id, slot, process: child, purpose, spawnedAt: now, state: 'booting', lastBeat: now, requests: 0, rss: 0, oldest: null, ...(replaces ? { replaces } : {}) };
    this.workers.set(child.pid, worker);
    child.onMessage((message) => this.enqueue({ type: 'message', worker, message }));
    child.onBlocked((report) => this.enqueue({ type: 'blocked', worker, report }));
    child.onExit((code, signal) => this.enqueue({ type: 'exit', worker, code, signal }));
    if (s.captureOutput) child.onOutput((line) => this.deps.writeOutput?.(line));
    this.deps.log.info(`Booting worker with pid: ${child.pid}`);
    return worker;
  }

  // ---- stopping ---------------------------------------------------------------------------------

  #stop(graceful: boolean, exitCode: number, why: string): void {
    if (this.state !== 'stopping') {
      const how = graceful ? 'Graceful' : 'Fast';
      // Gunicorn's line for a signal; anything else (the app failed to load) says what it is.
      this.deps.log.info(why.startsWith('SIG') ? `Handling signal: ${why.slice(3).toLowerCase()}. ${how} stop` : `Stopping: ${why}. ${how} stop`);
      this.#setState('stopping');
      this.#exitCode = exitCode;
      void Promise.resolve(this.deps.stopAccepting?.()).then(() => {
        this.#listenersClosed = true;
        this.enqueue({ type: 'tick' });
      });
    }
    const waitMs = graceful ? this.settings.gracefulTimeout * 1000 + 1000 : 2000;
    this.#stopDeadline = Math.min(this.#stopDeadline || Infinity, this.deps.now() + waitMs);
    if (graceful && (this.#pending.length > 0 || this.deps.acceptMode === 'master')) {
      // Connections the master accepted (round-robin, sync) are answered, not reset: the workers
      // get them first and are told to stop once none is left waiting.
      this.#termWhenDealt = true;
      this.#dealConnections();
    } else {
      this.#termWhenDealt = false;
      for (const socket of this.#pending.splice(0)) socket.destroy();
      for (const worker of this.#live()) worker.process.kill(graceful ? 'SIGTERM' : 'SIGQUIT');
    }
    this.#finishStopIfDone();
  }

  #finishStopIfDone(): void {
    if (this.state !== 'stopping' || this.workers.size > 0) return;
    this.#setState('halted');
    this.deps.log.info(`Shutting down: Master (exit ${this.#exitCode})`);
    this.#hook('onExit', this.serverInfo());
    this.deps.onHalt(this.#exitCode);
  }

  /** The whole server's metrics in Prometheus text: live workers plus everything retired ones counted. */
  metrics(): string {
    const live = new Map([...this.workers.values()].map((w) => [w.process.pid, { counters: w.counters ?? emptyCounters(), rss: w.rss, state: w.state }]));
    return renderPrometheus({ live, retired: this.#retiredCounters, restarts: this.restarts, desiredWorkers: this.desiredWorkers });
  }

  /**
   * For a load balancer or an orchestrator (`--metrics-bind`'s /readyz): ready while the server runs
   * (or reloads) with a worker serving; not while it boots or stops, so traffic moves elsewhere first.
   */
  readiness(): { ready: boolean; detail: string } {
    const serving = [...this.workers.values()].filter((w) => w.state === 'ready' && !w.killed).length;
    const stopSoon = this.#stopAfter !== undefined && this.state !== 'stopping';
    const ready = (this.state === 'running' || this.state === 'reloading') && !stopSoon && serving >= Math.min(this.settings.readyWorkers, Math.max(1, this.desiredWorkers));
    const state = stopSoon ? `stopping in ${Math.max(0, Math.ceil((this.#stopAfter! - this.deps.now()) / 1000))}s` : this.state;
    return { ready, detail: `${state}, ${serving}/${this.desiredWorkers} worker(s) serving` };
  }

  /** What `nodicorn status` and a worker's `serverStats()` show. */
  status(name: string): ServerStatus {
    const now = this.deps.now();
    return {
      name,
      pid: process.pid,
      state: this.state,
      uptimeMs: now - this.startedAt,
      desiredWorkers: this.desiredWorkers,
      restarts: this.restarts,
      listeners: this.sockets.map((l) => l.label),
      workers: [...this.workers.values()]
        .sort((a, b) => a.id - b.id)
        .map((w) => ({ id: w.id, pid: w.process.pid, state: w.state, requests: w.requests, rss: w.rss, heartbeatAgeMs: now - w.lastBeat, ageMs: now - w.spawnedAt })),
    };
  }
}
