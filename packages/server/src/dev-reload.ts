import { isAbsolute, resolve, sep } from 'node:path';
import { watch } from 'chokidar';
import { defaultControlPath } from './control/paths.js';
import type { Settings } from './settings/definitions.js';
import type { BindSpec } from './sockets/bind-spec.js';

/**
 * The files nodicorn itself writes while it serves (logs and their rotations, pidfile, Unix sockets,
 * control socket, a stack's state directory). Under --chdir, each of their writes would otherwise
 * be a "change": a log line would reload the workers, whose boot writes the next line, forever.
 */
export function ownFiles(settings: Settings, binds: readonly BindSpec[], env: NodeJS.ProcessEnv): string[] {
  const logs = [settings.errorlog, settings.accesslog].filter((path): path is string => !!path && path !== '-');
  const sockets = binds.flatMap((bind) => (bind.kind === 'unix' ? [bind.path] : []));
  const control = settings.controlSocket ?? defaultControlPath(settings.procName, settings.app, env);
  const paths = [...logs, settings.pidfile, ...sockets, control, env.NODICORN_STACK_DIR];
  return paths.filter((path): path is string => !!path).map((path) => (isAbsolute(path) ? path : resolve(settings.chdir, path)));
}

/** Whether `path` is one of `own`, a rotation of one (`access.log.1`), or inside one (a directory). */
export function isOwnFile(path: string, own: readonly string[]): boolean {
  return own.some((mine) => path === mine || path.startsWith(mine + sep) || path.startsWith(mine + '.'));
}

const DEPENDENCIES_OR_VCS = /(^|[/\\])(node_modules|\.git)([/\\]|$)/;
const DOTFILE = /(^|[/\\])\.[^/\\]+$/;

/**
 * --reload: watches chdir (and --reload-extra-file paths) and calls `onChange` once per burst of
 * changes, `debounceMs` after the last one (an editor's save, a `git checkout`, a build writing many
 * files: one reload). Dependencies, VCS data, dotfiles and nodicorn's own files are ignored.
 */
export function watchForReload(
  paths: readonly string[],
  onChange: (file: string) => void,
  options: { ignore?: readonly string[]; debounceMs?: number } = {},
): { close(): Promise<void> } {
  const own = options.ignore ?? [];
  const watcher = watch([...paths], {
    ignoreInitial: true,
    ignored: (path) => DEPENDENCIES_OR_VCS.test(path) || DOTFILE.test(path) || isOwnFile(resolve(path), own),
  });
  let timer: NodeJS.Timeout | undefined;
  let first = '';
  watcher.on('all', (_event, file) => {
    if (!timer) first = file;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange(first);
    }, options.debounceMs ?? 300);
  });
  watcher.on('error', () => undefined);
  return {
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
