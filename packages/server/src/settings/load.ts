import { UsageError } from '../errors.js';
import type { Settings } from './definitions.js';
import { parseArgs, splitCommandLine } from './parse-args.js';
import { defaultSettings, layerSettings, validateSettings } from './resolve.js';

/** Flags the `nodicorn` command handles itself rather than as settings. */
export const COMMAND_FLAGS = ['-h', '--help', '-v', '--version'] as const;

export interface ServeInvocation {
  readonly settings: Settings;
  readonly flags: Set<string>;
}

/**
 * The settings for `nodicorn [flags] APP`, layered as Gunicorn layers them:
 * defaults and environment < NODICORN_CMD_ARGS < the command line.
 */
export function resolveServeSettings(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ServeInvocation {
  const fromEnvArgs = env.NODICORN_CMD_ARGS ? parseArgs(splitCommandLine(env.NODICORN_CMD_ARGS), COMMAND_FLAGS) : null;
  const fromArgv = parseArgs(argv, COMMAND_FLAGS);
  const flags = fromArgv.flags;
  const positionals = [...(fromEnvArgs?.positionals ?? []), ...fromArgv.positionals];
  if (positionals.length > 1) {
    throw new UsageError('ERR_UNKNOWN_OPTION', `Expected one APP argument, got ${positionals.length}: ${positionals.join(' ')}. Options go before or after APP, each with its flag.`);
  }
  const layered = layerSettings(defaultSettings(env), fromEnvArgs?.values ?? {}, fromArgv.values);
  if (positionals[0] !== undefined) layered.app = positionals[0];
  if (!layered.app && !flags.has('--help') && !flags.has('-h') && !flags.has('--version') && !flags.has('-v')) {
    throw new UsageError('ERR_NO_APP', 'No APP given. Usage: nodicorn [OPTIONS] MODULE[:NAME], e.g. nodicorn -w 2 app.js:app (see nodicorn --help).');
  }
  return { settings: validateSettings(layered), flags };
}
