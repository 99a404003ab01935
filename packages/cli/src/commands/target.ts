import { parseArgs } from 'node:util';
import { UsageError, defaultControlPath, listControlSockets } from '@nodicorn/server';

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
  if (values.name) return [defaultControlPath(values.name, values.name)];
  return listControlSockets();
}
