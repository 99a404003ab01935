import type { ServerStatus } from './control/protocol.js';
import type { WorkerCounters } from './metrics/counters.js';
import type { StatsdBatch } from './metrics/statsd-batch.js';
import type { Settings } from './settings/definitions.js';
import type { AcceptMode } from './sockets/accept-mode.js';

/**
 * What master and workers say to each other. Master → worker control uses signals, as Gunicorn does
 * (TERM graceful, QUIT fast, USR1 reopen logs), so it works even when the IPC channel is busy;
 * worker → master reports go over the IPC channel, except the watchdog's, which has its own pipe
 * because it must get through while the worker's event loop is blocked.
 */

/** Everything a worker needs, passed in its environment as JSON (NODICORN_WORKER). */
export interface WorkerConfig {
  readonly id: number;
  /** The master's resolved settings (hooks come from re-reading `settings.config` in the worker). */
  readonly settings: Settings;
  /** max_requests with this worker's jitter already added; 0 is off. */
  readonly maxRequests: number;
  /** Who accepts connections: these workers on shared or own sockets, or the master. */
  readonly acceptMode: AcceptMode;
  /** Descriptors of the shared listening sockets this worker accepts on. */
  readonly listenFds: readonly number[];
  /** Addresses this worker binds itself with SO_REUSEPORT. */
  readonly reusePort: readonly { readonly host: string; readonly port: number }[];
  /** Write end of the watchdog's pipe to the master. */
  readonly watchdogFd: number;
}

/** The request a worker is serving, as the master shows it in a timeout report. */
export interface RequestInfo {
  readonly method: string;
  readonly url: string;
  readonly startedAt: number;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | {
      readonly type: 'heartbeat';
      readonly requests: number;
      readonly rss: number;
      readonly inflight: number;
      readonly oldest: RequestInfo | null;
      /** With --metrics-bind: what this worker has counted since it started. */
      readonly counters?: WorkerCounters;
    }
  | { readonly type: 'recycle'; readonly reason: string }
  /** Sent every 250 ms when it changed: what `status` shows and what the master balances on. */
  | {
      readonly type: 'load';
      readonly requests: number;
      readonly connections: number;
      /** With --statsd-host: what the worker counted since its last batch (sent whenever there is one). */
      readonly statsd?: StatsdBatch;
    }
  /** Sync workers: the connection the master handed over is done; send the next. */
  | { readonly type: 'free' }
  /** An app asked for the server's stats (serverStats()); the master answers with a StatsMessage. */
  | { readonly type: 'stats'; readonly id: number };

/**
 * Master → worker, just before its TERM: it is retired while the other workers serve on (a reload,
 * a recycle, TTOU), so it stops accepting at once instead of draining the shared backlog.
 */
export interface RetireMessage {
  readonly type: 'retire';
}

/**
 * Master → worker: it holds more than its share of the open connections (a proxy's pooled keep-alive
 * connections stay where they were accepted, so a replaced or added worker would sit idle): close
 * this many after their next response, and their clients reconnect to whichever worker accepts.
 */
export interface ShedMessage {
  readonly type: 'shed';
  readonly connections: number;
}

/**
 * Master → worker (timeout_quarantine): a request that just timed a worker out; the same method and
 * target is answered 503 until `until` (epoch ms).
 */
export interface QuarantineMessage {
  readonly type: 'quarantine';
  readonly method: string;
  readonly url: string;
  readonly until: number;
}

/** Master → worker: the answer to a stats request. */
export interface StatsMessage {
  readonly type: 'stats';
  readonly id: number;
  readonly status: ServerStatus;
}

/** Master → worker, with a socket handle attached: a connection the master accepted (round-robin, sync). */
export interface ConnectionMessage {
  readonly type: 'connection';
}

/** What the watchdog thread writes to its pipe, one JSON object per line. */
export interface BlockedReport {
  readonly type: 'blocked';
  readonly blockedMs: number;
  readonly request: RequestInfo | null;
  readonly stack: readonly string[];
  readonly error?: string;
}

export const WORKER_ENV = 'NODICORN_WORKER';

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
