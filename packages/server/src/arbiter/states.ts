/**
 * The master's and each worker's lifecycle as transition tables. `transition()` refuses a move the
 * table does not allow, so a bug shows up as an error at the point it happens instead of as a
 * master in an impossible state.
 */
export type MasterState = 'booting' | 'running' | 'reloading' | 'stopping' | 'halted';
export type WorkerState = 'booting' | 'ready' | 'retiring' | 'exited';

export const MASTER_TRANSITIONS: Record<MasterState, readonly MasterState[]> = {
  booting: ['running', 'stopping', 'halted'],
  running: ['reloading', 'stopping'],
  reloading: ['running', 'stopping'],
  stopping: ['halted'],
  halted: [],
};

export const WORKER_TRANSITIONS: Record<WorkerState, readonly WorkerState[]> = {
  booting: ['ready', 'retiring', 'exited'],
  ready: ['retiring', 'exited'],
  retiring: ['exited'],
  exited: [],
};

export class IllegalTransitionError extends Error {
  constructor(kind: string, from: string, to: string) {
    super(`illegal ${kind} transition ${from} -> ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function transition<S extends string>(table: Record<S, readonly S[]>, kind: string, from: S, to: S): S {
  if (!table[from].includes(to)) throw new IllegalTransitionError(kind, from, to);
  return to;
}
