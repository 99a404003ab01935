import { isAbsolute, resolve } from 'node:path';
import type { Settings } from './definitions.js';

const resolveFrom = (base: string, path: string) => (isAbsolute(path) ? path : resolve(base, path));
const file = (base: string, path: string | null) => (path && path !== '-' ? resolveFrom(base, path) : path);

/**
 * Relative paths in the settings are relative to where nodicorn was started, as Gunicorn's are: its
 * master opens the logs and pidfile and binds before --chdir takes effect (that happens where the app
 * is loaded). Resolving them once, here, means the master, the workers (which run in chdir) and a
 * USR1 reopen all name the same file.
 */
export function resolveLaunchPaths(settings: Settings, cwd: string): Settings {
  return {
    ...settings,
    chdir: resolveFrom(cwd, settings.chdir),
    errorlog: file(cwd, settings.errorlog) ?? '-',
    accesslog: file(cwd, settings.accesslog),
    pidfile: file(cwd, settings.pidfile),
    controlSocket: file(cwd, settings.controlSocket),
    certfile: file(cwd, settings.certfile),
    keyfile: file(cwd, settings.keyfile),
    reloadExtraFiles: settings.reloadExtraFiles.map((path) => resolveFrom(cwd, path)),
    bind: settings.bind.map((bind) => (bind.startsWith('unix:') ? `unix:${resolveFrom(cwd, bind.slice('unix:'.length))}` : bind)),
  };
}
