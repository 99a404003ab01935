import { code, describeDefault, flagsCell, markdownTable, settingsHelp } from '@nodicorn/settings';
import { PROXY_SETTING_KEYS, PROXY_SETTINGS } from './definitions.js';
import { PROXY_SCHEMA } from './schema.js';

/** The options part of `nodicorn proxy --help`, derived from the settings list. */
export const proxyHelp = (): string => settingsHelp(PROXY_SCHEMA);

/** The README's settings table, from the same list; a test keeps the README in step. */
export function proxySettingsMarkdown(): string {
  const rows = PROXY_SETTING_KEYS.map((key) => [code(key), flagsCell(PROXY_SETTINGS[key]), describeDefault(PROXY_SETTINGS[key]), PROXY_SETTINGS[key].doc]);
  return markdownTable(['config key', 'flags', 'default', 'description'], rows);
}
