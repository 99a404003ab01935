import { watch } from 'chokidar';

/**
 * --reload: watches chdir (and --reload-extra-file paths) and calls `onChange` once per burst of
 * changes. Dependencies, VCS data and dotfiles are ignored: editors and installs touch them in bulk.
 */
export function watchForReload(paths: readonly string[], onChange: (file: string) => void, debounceMs = 300): { close(): Promise<void> } {
  const watcher = watch([...paths], {
    ignoreInitial: true,
    ignored: (path) => /(^|[/\\])(node_modules|\.git)([/\\]|$)/.test(path) || /(^|[/\\])\.[^/\\]+$/.test(path),
  });
  let timer: NodeJS.Timeout | undefined;
  let first = '';
  watcher.on('all', (_event, file) => {
    if (!timer) first = file;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange(first);
    }, debounceMs);
  });
  watcher.on('error', () => undefined);
  return {
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
