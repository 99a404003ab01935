import { defineSettings } from '@nodicorn/settings';
import { SettingError, UsageError } from '../errors.js';
import { SETTINGS } from './definitions.js';
import { notTaken } from './gunicorn-only.js';

/** Flags the `nodicorn` command handles itself rather than as settings. */
export const COMMAND_FLAGS = ['-h', '--help', '-v', '--version'] as const;

/** Looked for in the working directory, in this order, when no -c is given. */
export const CONFIG_FILE_NAMES = ['nodicorn.config.js', 'nodicorn.config.mjs', 'nodicorn.config.cjs', 'nodicorn.config.json'] as const;

/** The server's settings list as `nodicorn` reads it: positional APP, Gunicorn's names in messages. */
export const SETTINGS_SCHEMA = defineSettings(SETTINGS, {
  command: 'nodicorn',
  error: (problem, message) => (problem === 'usage' ? new UsageError('ERR_UNKNOWN_OPTION', message) : new SettingError(message)),
  commandFlags: COMMAND_FLAGS,
  positionals: true,
  explainUnknown(written) {
    const gunicorn = notTaken(written);
    return gunicorn && `is Gunicorn's ${gunicorn.name}, which nodicorn does not take: ${gunicorn.why}`;
  },
  keysHint: 'Keys are the settings of nodicorn --help (snake_case as in Gunicorn, or camelCase) and the hooks.',
  defaultConfigFiles: './nodicorn.config.{js,mjs,cjs,json}',
  describe: (_key, spec) => `${spec.name} (${spec.flags.join(', ')})`,
});
