import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { NodicornError } from '../errors.js';

/** Is a process with this pid alive? EPERM means it is, but belongs to someone else. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Writes the pidfile, created exclusively (O_EXCL) so two masters started at once cannot both take
 * it. A pidfile naming a live process other than this one is refused; a stale one is replaced.
 */
export function writePidfile(path: string, pid = process.pid): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${pid}\n`, { mode: 0o644, flag: 'wx' });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new NodicornError('ERR_PIDFILE_WRITE', `Cannot write pidfile ${path}: ${code ?? (err as Error).message}. Check the directory exists and is writable, or choose another --pid.`);
      }
    }
    const existing = readPid(path);
    if (existing === pid) return;
    if (existing !== null && processAlive(existing)) {
      throw new NodicornError('ERR_PIDFILE_ALIVE', `Pidfile ${path} names process ${existing}, which is still running. Is nodicorn already running? Stop it, or choose another --pid.`);
    }
    // Stale (its process is gone) or still being written by a racing master: remove it and try again.
    if (existing !== null) {
      try {
        unlinkSync(path);
      } catch {
        // the other master removed it first
      }
    }
  }
  throw new NodicornError('ERR_PIDFILE_ALIVE', `Pidfile ${path} is being taken by another process. Is another nodicorn starting with the same --pid?`);
}

/** Removes the pidfile if it still names this process (a successor may have taken it over). */
export function removePidfile(path: string, pid = process.pid): void {
  if (readPid(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
