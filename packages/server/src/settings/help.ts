import { code, describeDefault, flagsCell, helpLine, markdownTable, settingsHelp as help } from '@nodicorn/settings';
import { GUNICORN_NOT_TAKEN } from './gunicorn-only.js';
import { SETTING_KEYS, SETTINGS, type SettingKey } from './definitions.js';
import { SETTINGS_SCHEMA } from './schema.js';

/** The options part of `nodicorn --help`, grouped by section, derived from the settings list. */
export const settingsHelp = (): string => help(SETTINGS_SCHEMA);

/** The --help lines of some settings, for a command that takes them too (`nodicorn proxy --workers N`). */
export function settingsHelpFor(keys: readonly SettingKey[]): string {
  return keys.map((key) => helpLine(SETTINGS[key])).join('\n');
}

/** docs/settings.md, generated from the same list; a test fails when the committed file is stale. */
export function settingsMarkdown(): string {
  const rows = SETTING_KEYS.map((key) => {
    const spec = SETTINGS[key];
    return [code(spec.name), spec.name === key ? '' : code(key), flagsCell(spec), describeDefault(spec), spec.doc];
  });
  return [
    '# Settings',
    '',
    'Generated from `packages/server/src/settings/definitions.ts` by `pnpm --filter @nodicorn/server gen:docs`. Do not edit by hand.',
    '',
    'Precedence, as Gunicorn: defaults and environment (`WEB_CONCURRENCY`, `PORT`, `FORWARDED_ALLOW_IPS`) < config file < `NODICORN_CMD_ARGS` < command line.',
    '',
    'A config file takes each setting by its name (snake_case, as in Gunicorn\'s config files) or by its camelCase config key; `--print-config` prints the names.',
    '',
    markdownTable(['setting', 'or, camelCase', 'flags', 'default', 'description'], rows),
    '',
    "## Gunicorn's settings that nodicorn does not take",
    '',
    'Porting a `gunicorn.conf.py` or a command line: each of these is answered with the reason below, as a flag and as a config key.',
    '',
    markdownTable(['Gunicorn setting', 'its flags', 'why'], Object.entries(GUNICORN_NOT_TAKEN).map(([name, entry]) => [code(name), entry.flags.map(code).join(', '), entry.why])),
    '',
  ].join('\n');
}
