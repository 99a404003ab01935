import { readFileSync, rmSync, writeFileSync } from 'node:fs';
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
