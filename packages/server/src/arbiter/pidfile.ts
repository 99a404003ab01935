import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
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
 * Writes the pidfile atomically (temp file + rename, so a reader never sees it half written), after
 * refusing to overwrite one that names a live process other than this one.
 */
export function writePidfile(path: string, pid = process.pid): void {
  const existing = readPid(path);
  if (existing !== null && existing !== pid && processAlive(existing)) {
    throw new NodicornError('ERR_PIDFILE_ALIVE', `Pidfile ${path} names process ${existing}, which is still running. Is nodicorn already running? Stop it, or choose another --pid.`);
  }
  const temp = `${path}.${pid}.tmp`;
  try {
    writeFileSync(temp, `${pid}\n`, { mode: 0o644 });
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // nothing was written
    }
    throw new NodicornError('ERR_PIDFILE_WRITE', `Cannot write pidfile ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Check the directory exists and is writable, or choose another --pid.`);
  }
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
