import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logging/error-log.js';
import type { BlockedReport } from '../protocol.js';
import type { Settings } from './definitions.js';

/** What a master-side hook sees of the server. */
export interface ServerInfo {
  readonly pid: number;
  readonly settings: Settings;
  readonly log: Logger;
  /** Pids of the workers alive right now. */
  readonly workerPids: readonly number[];
}

/** What a hook sees of one worker. */
export interface WorkerInfo {
  /** Sequential age: 1 for the first worker the master ever started. */
  readonly id: number;
  /** Undefined in preFork, before the process exists. */
  readonly pid?: number;
  readonly exitCode?: number | null;
  readonly signal?: NodeJS.Signals | null;
}

/**
 * Gunicorn's server hooks, camelCased, each called where Gunicorn calls it. Master hooks run in the
 * master; postFork, postWorkerInit, workerInt, preRequest and postRequest run in the worker.
 * workerAbort runs in the master: a worker killed for a timeout has a blocked event loop that could
 * not run a hook, so the master calls it with the watchdog's report instead.
 */
export interface Hooks {
  onStarting(server: ServerInfo): void | Promise<void>;
  onReload(server: ServerInfo): void | Promise<void>;
  whenReady(server: ServerInfo): void | Promise<void>;
  preFork(server: ServerInfo, worker: WorkerInfo): void | Promise<void>;
  postFork(settings: Settings, worker: WorkerInfo): void | Promise<void>;
  postWorkerInit(worker: WorkerInfo): void | Promise<void>;
  workerInt(worker: WorkerInfo): void | Promise<void>;
  workerAbort(server: ServerInfo, worker: WorkerInfo, report: BlockedReport | undefined): void | Promise<void>;
  preRequest(worker: WorkerInfo, req: IncomingMessage): void;
  postRequest(worker: WorkerInfo, req: IncomingMessage, res: ServerResponse): void;
  childExit(server: ServerInfo, worker: WorkerInfo): void | Promise<void>;
  workerExit(server: ServerInfo, worker: WorkerInfo): void | Promise<void>;
  nworkersChanged(server: ServerInfo, newValue: number, oldValue: number): void | Promise<void>;
  onExit(server: ServerInfo): void | Promise<void>;
}

export type HookName = keyof Hooks;

export const HOOK_NAMES: readonly HookName[] = [
  'onStarting', 'onReload', 'whenReady', 'preFork', 'postFork', 'postWorkerInit', 'workerInt', 'workerAbort',
  'preRequest', 'postRequest', 'childExit', 'workerExit', 'nworkersChanged', 'onExit',
];

/**
 * Calls a hook if it is set. A hook that throws (or rejects) is logged with its name and does not
 * take the server down; a synchronous hook's errors are caught the same way.
 */
export function callHook<K extends HookName>(hooks: Partial<Hooks>, name: K, log: Logger, ...args: Parameters<Hooks[K]>): void {
  const hook = hooks[name] as ((...a: Parameters<Hooks[K]>) => unknown) | undefined;
  if (!hook) return;
  const report = (err: unknown) => log.error(`Hook ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  try {
    const result = hook(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, report);
  } catch (err) {
    report(err);
  }
}
