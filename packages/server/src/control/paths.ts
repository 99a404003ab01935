import { mkdirSync } from 'node:fs';
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

export function ensureControlDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}
