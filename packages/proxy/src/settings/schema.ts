import { defineSettings } from '@nodicorn/settings';
import { ProxySettingError } from '../errors.js';
import { PROXY_SETTINGS } from './definitions.js';

export const PROXY_COMMAND_FLAGS = ['-h', '--help'] as const;

/** The proxy's settings list as `nodicorn proxy` reads it: options only, messages by flag. */
export const PROXY_SCHEMA = defineSettings(PROXY_SETTINGS, {
  command: 'nodicorn proxy',
  error: (problem, message) =>
    new ProxySettingError(message, problem === 'usage' ? 'ERR_PROXY_UNKNOWN_OPTION' : problem === 'config-file' ? 'ERR_PROXY_CONFIG_FILE' : 'ERR_PROXY_SETTING'),
  commandFlags: PROXY_COMMAND_FLAGS,
  commandLineOnly: ['config'],
});
