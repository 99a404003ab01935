import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { NodicornError, UsageError, assertPrivateDir, defaultControlPath, listControlSockets } from '@nodicorn/server';

/** The options `status` and `ctl` share: which server to talk to. */
export const TARGET_OPTIONS = {
  'control-socket': { type: 'string' },
  name: { type: 'string', short: 'n' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseTargetArgs(argv: readonly string[], command: string) {
  try {
    return parseArgs({ args: [...argv], options: TARGET_OPTIONS, allowPositionals: true });
  } catch (err) {
    throw new UsageError('ERR_UNKNOWN_OPTION', `nodicorn ${command}: ${(err as Error).message}. See nodicorn ${command} --help.`);
  }
}

/** The control sockets a command addresses: the one named, or every one in the default directory. */
export function targetSockets(values: { 'control-socket'?: string; name?: string }): string[] {
  if (values['control-socket']) return [values['control-socket']];
  if (values.name) {
    const path = defaultControlPath(values.name, values.name);
    if (existsSync(dirname(path))) assertPrivateDir(dirname(path));
    if (!existsSync(path)) throw new NodicornError('ERR_CONTROL', `No running nodicorn is named "${values.name}"; ${runningNames()}.`);
    return [path];
  }
  return listControlSockets();
}

/** The names `--name` takes right now: the servers' control sockets in the default directory. */
function runningNames(): string {
  const names = listControlSockets().map((path) => basename(path, '.sock'));
  return names.length ? `the running ones are ${names.join(', ')}` : 'none is running (for a server started with --control-socket PATH, give that path)';
}
