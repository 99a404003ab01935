import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Stack } from './stack-file.js';
import { findStackFile } from './stack-file.js';

const BIN = fileURLToPath(new URL('../../bin/nodicorn.js', import.meta.url));

/** Does `nodicorn` on this PATH run this very installation? Then the short name is what to print. */
function nodicornOnPath(env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'nodicorn');
    try {
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate) === realpathSync(BIN);
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * The command a user types for another verb of the same stack, as it runs when pasted into the same
 * shell: `pnpm stack VERB` when run through the repository's `stack` script (which names the file),
 * else `nodicorn stack VERB` (or node and the CLI's path when `nodicorn` is not on PATH), with
 * `--file` unless the stack file is the one `nodicorn stack` finds in this directory by itself.
 */
export function stackCommand(stack: Stack, verb: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  if (env.npm_lifecycle_event === 'stack') return `pnpm stack ${verb}`;
  const program = nodicornOnPath(env) ? 'nodicorn' : `node ${relative(cwd, BIN) || BIN}`;
  const found = findStackFile(cwd);
  const file = found && realpathSync(found) === realpathSync(stack.file) ? '' : ` --file ${relative(cwd, stack.file) || stack.file}`;
  return `${program} stack ${verb}${file}`;
}
