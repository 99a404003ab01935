import { defaultSettings as defaults, layerSettings, validateSettings as validate } from '@nodicorn/settings';
import type { Settings } from './definitions.js';
import { SETTINGS_SCHEMA } from './schema.js';

/** The default of every setting, computed against an environment (WEB_CONCURRENCY, PORT). */
export const defaultSettings = (env: NodeJS.ProcessEnv = process.env): Settings => defaults(SETTINGS_SCHEMA, env);

/** Runs each setting's type and range check; throws one SettingError naming the first bad setting. */
export const validateSettings = (settings: Settings): Settings => validate(SETTINGS_SCHEMA, settings);

export { layerSettings };
