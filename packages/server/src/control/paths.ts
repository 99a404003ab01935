import { lstatSync, mkdirSync } from 'node:fs';
import { NodicornError } from '../errors.js';
import { join } from 'node:path';

/** Where control sockets live by default: a per-user directory only that user can enter. */
export function controlDir(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): string {
  return env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'nodicorn') : join('/tmp', `nodicorn-${uid}`);
}

/** A file-name-safe server name: --name, else the APP spec. */
export function serverName(procName: string | null, app: string): string {
  return (procName ?? app).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'nodicorn';
}

export function defaultControlPath(procName: string | null, app: string, env?: NodeJS.ProcessEnv): string {
  return join(controlDir(env), `${serverName(procName, app)}.sock`);
}

/**
 * Another local user who creates the control directory first (`mkdir -m777 /tmp/nodicorn-0`) could
 * put her own socket there and answer `nodicorn status` and `ctl` in the master's place. So the
 * directory is used only when it is a real directory (not a symlink), owned by this user, and closed
 * to everyone else; anything else is refused with what is wrong and what to do.
 */
export function assertPrivateDir(dir: string, uid: number = process.getuid?.() ?? 0): void {
  const stat = lstatSync(dir);
  const problem = stat.isSymbolicLink() ? 'it is a symbolic link'
    : !stat.isDirectory() ? 'it is not a directory'
      : stat.uid !== uid ? `it belongs to uid ${stat.uid}, not to this user (uid ${uid})`
        : (stat.mode & 0o077) !== 0 ? `its mode is 0${(stat.mode & 0o777).toString(8)}; only its owner may use it (0700)`
          : '';
  if (problem) {
    throw new NodicornError('ERR_CONTROL_DIR', `Control directory ${dir} is not safe to use: ${problem}. Another user may have made it to take over the control socket; remove it, or give --control-socket PATH in a directory only you can write.`);
  }
}

/** Creates the default control directory (0700) if needed, and refuses one that is not private. */
export function ensureControlDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  assertPrivateDir(dir);
}
