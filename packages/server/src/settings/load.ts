import { resolveLaunchPaths } from './launch-paths.js';
import { UsageError } from '../errors.js';
import { findConfigFile, loadConfigFile, type ConfigFile } from './config-file.js';
import { SETTING_KEYS, SETTINGS, type Settings } from './definitions.js';
import type { Hooks } from './hooks.js';
import { parseArgs, splitCommandLine } from './parse-args.js';
import { defaultSettings, layerSettings, validateSettings } from './resolve.js';
import { COMMAND_FLAGS } from './schema.js';

export { COMMAND_FLAGS };

export interface ServeInvocation {
  readonly settings: Settings;
  readonly hooks: Partial<Hooks>;
  readonly configPath: string | null;
  readonly flags: Set<string>;
  /** Resolves the settings again from the same command line (HUP re-reads the config file). */
  readonly reread: () => Promise<{ settings: Settings; hooks: Partial<Hooks> }>;
}

/**
 * The settings for `nodicorn [flags] APP`, layered as Gunicorn layers them:
 * defaults and environment < config file < NODICORN_CMD_ARGS < the command line.
 */
export async function resolveServeSettings(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Promise<ServeInvocation> {
  const fromEnvArgs: ReturnType<typeof parseArgs> = env.NODICORN_CMD_ARGS ? parseArgs(splitCommandLine(env.NODICORN_CMD_ARGS)) : { values: {}, positionals: [], flags: new Set() };
  const fromArgv = parseArgs(argv);
  const flags = fromArgv.flags;
  const positionals = [...fromEnvArgs.positionals, ...fromArgv.positionals];
  if (positionals.length > 1) {
    throw new UsageError('ERR_UNKNOWN_OPTION', `Expected one APP argument, got ${positionals.length}: ${positionals.join(' ')}. Options go before or after APP, each with its flag.`);
  }
  const wantsInfo = flags.has('--help') || flags.has('-h') || flags.has('--version') || flags.has('-v');
  const configPath = fromArgv.values.config ?? fromEnvArgs.values.config ?? findConfigFile(cwd);

  const resolveOnce = async () => {
    const config: ConfigFile | null = configPath ? await loadConfigFile(configPath) : null;
    const layered = layerSettings(defaultSettings(env), config?.values ?? {}, fromEnvArgs.values, fromArgv.values);
    if (positionals[0] !== undefined) layered.app = positionals[0];
    if (!layered.app && !wantsInfo) {
      throw new UsageError('ERR_NO_APP', 'No APP given. Usage: nodicorn [OPTIONS] MODULE[:NAME], e.g. nodicorn -w 2 app.js:app (see nodicorn --help).');
    }
    if (config) layered.config = config.path;
    // Resolved once against the launch directory, as Gunicorn does, so nothing applies them twice
    // (HUP re-reads from the master, which by then runs in chdir).
    return { settings: resolveLaunchPaths(validateSettings(layered), cwd), hooks: config?.hooks ?? {} };
  };
  const { settings, hooks } = await resolveOnce();
  return { settings, hooks, configPath: settings.config, flags, reread: resolveOnce };
}

/** `--print-config`: every setting by its Gunicorn name, as resolved. */
export function formatSettings(settings: Settings): string {
  const width = Math.max(...SETTING_KEYS.map((k) => SETTINGS[k].name.length));
  return SETTING_KEYS.map((key) => `${SETTINGS[key].name.padEnd(width)} = ${JSON.stringify(settings[key])}`).join('\n') + '\n';
}
