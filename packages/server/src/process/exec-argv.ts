/**
 * The Node flags a nodicorn child process starts with: the parent's, less inspector flags (every
 * child would fight the parent for the debug port, and an inspector lets any local user run code).
 *
 * Not --disable-sigusr1 (Node 22.14+): it does keep SIGUSR1 from opening the inspector, but it also
 * keeps the signal from JavaScript handlers, and USR1 is how logrotate tells every nodicorn process
 * to reopen its logs. Instead each entry point (the CLI's bin, a worker's boot module) installs a USR1
 * handler before any other code runs, which is what keeps Node's inspector closed.
 */
export function childExecArgv(parent: readonly string[] = process.execArgv): string[] {
  return parent.filter((arg) => !/^--inspect(-brk|-port|-wait)?(=|$)/.test(arg));
}
