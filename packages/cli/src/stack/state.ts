import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '@nodicorn/server';

/** What a running stack leaves in its state dir, for `down`, `status` and a second `up`. */
export interface StackState {
  readonly name: string;
  readonly file: string;
  readonly supervisorPid: number;
  readonly startedAt: string;
  readonly parts: readonly { name: string; kind: 'server' | 'proxy'; pid: number; controlSocket?: string }[];
  readonly banner: string;
}

export const statePath = (stateDir: string) => join(stateDir, 'stack.json');
export const logPath = (stateDir: string) => join(stateDir, 'stack.log');

/** Earlier runs' logs kept beside the current one: stack.log.1 is the last run, as logrotate numbers them. */
const KEPT_LOGS = 5;

/** Each `up` starts a fresh stack.log; the previous ones move to stack.log.1 … .5 rather than being lost. */
export function rotateLog(stateDir: string): void {
  const log = logPath(stateDir);
  if (!existsSync(log)) return;
  for (let n = KEPT_LOGS - 1; n >= 1; n--) if (existsSync(`${log}.${n}`)) renameSync(`${log}.${n}`, `${log}.${n + 1}`);
  renameSync(log, `${log}.1`);
}

export function readState(stateDir: string): StackState | null {
  try {
    return JSON.parse(readFileSync(statePath(stateDir), 'utf8')) as StackState;
  } catch {
    return null;
  }
}

export function writeState(stateDir: string, state: StackState): void {
  writeFileSync(statePath(stateDir), JSON.stringify(state, null, 2) + '\n');
}

export function clearState(stateDir: string): void {
  rmSync(statePath(stateDir), { force: true });
}

/** Is this pid alive (EPERM counts: alive, someone else's)? */
export const alive = processAlive;
