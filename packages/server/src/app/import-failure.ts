import { spawnSync } from 'node:child_process';

const TYPESCRIPT = /\.[cm]?ts$/;

/** `node --check` never runs the module: it only parses it, so it is safe on the failure path. */
function checkSyntax(file: string): string | undefined {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  if (check.status === 0 || !check.stderr) return undefined;
  return check.stderr.split(/\n\s*\n/)[0];
}

/**
 * Where a module failed, as `node` itself would show it. Node attaches the `file:line` and caret of an
 * ES module's SyntaxError only when it prints an uncaught error; a caught one has lost them, so they
 * are recovered with `node --check`. CommonJS syntax errors carry them at the top of their stack; an
 * error thrown while the module ran has its frame in the stack.
 */
export function failureLocation(err: unknown, file: string): string {
  if (!(err instanceof Error) || !err.stack) return '';
  const head = err.stack.split(/\n\s*\n/)[0]!;
  if (err instanceof SyntaxError) {
    const located = /^(file:\/\/|\/)\S+:\d+\n/.test(head) ? head : checkSyntax(file);
    return located ? `\n${located.trimEnd()}` : ` (in a module ${file} imports; run node on it to see where)`;
  }
  const frame = err.stack.split('\n').find((line) => /^\s+at .*(file:\/\/|\()?\/\S+:\d+:\d+/.test(line) && !line.includes('node:'));
  return frame ? ` (${frame.trim()})` : '';
}

/** A TypeScript entry on a Node.js that cannot strip types: say which Node runs it, or how to build it. */
export function typescriptHint(err: unknown, file: string): string | undefined {
  if (!TYPESCRIPT.test(file) || (err as NodeJS.ErrnoException | undefined)?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') return undefined;
  return (
    `App module ${file} is TypeScript, which Node.js ${process.version} cannot run directly. ` +
    'Run it on Node.js >= 22.18 (or >= 23.6), which strips types itself, or compile it (tsc) and pass the built file, such as dist/app.js:app.'
  );
}

/** The stack of what made an app fail to load, when it has a frame of the app's own; Node's internals alone say nothing. */
export function appStack(cause: unknown): string {
  if (!(cause instanceof Error) || !cause.stack) return '';
  const frames = cause.stack.split('\n').filter((line) => /^\s+at /.test(line));
  return frames.some((line) => !line.includes('node:')) ? `\n${cause.stack}` : '';
}
