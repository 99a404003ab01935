import { GUNICORN_NOT_TAKEN } from './gunicorn-only.js';
import { SETTING_KEYS, SETTINGS, type SettingKey } from './definitions.js';
import type { SettingSpec } from './types.js';

function describeDefault(spec: SettingSpec<unknown>): string {
  if (spec.defaultDoc) return spec.defaultDoc;
  return JSON.stringify(spec.default);
}

function helpLine(spec: SettingSpec<unknown>): string {
  const usage = spec.flags.join(', ') + (spec.boolean ? '' : ` ${spec.type.meta}`);
  return `  ${usage.padEnd(34)} ${spec.doc} [default: ${describeDefault(spec)}]`;
}

/** The --help lines of some settings, for a command that takes them too (`nodicorn proxy --workers N`). */
export function settingsHelpFor(keys: readonly SettingKey[]): string {
  return keys.map((key) => helpLine(SETTINGS[key] as SettingSpec<unknown>)).join('\n');
}

/** The options part of `nodicorn --help`, grouped by section, derived from the settings list. */
export function settingsHelp(): string {
  const sections = new Map<string, string[]>();
  for (const key of SETTING_KEYS) {
    const spec = SETTINGS[key] as SettingSpec<unknown>;
    if (spec.flags.length === 0) continue;
    sections.set(spec.section, [...(sections.get(spec.section) ?? []), helpLine(spec)]);
  }
  return [...sections].map(([section, lines]) => `${section}:\n${lines.join('\n')}`).join('\n\n');
}

/** docs/settings.md, generated from the same list; a test fails when the committed file is stale. */
export function settingsMarkdown(): string {
  const rows = SETTING_KEYS.map((key) => {
    const spec = SETTINGS[key] as SettingSpec<unknown>;
    const flags = spec.flags.map((f) => `\`${f}\``).join(', ');
    const cell = (s: string) => s.replace(/\|/g, '\\|');
    return `| \`${spec.name}\` | ${spec.name === key ? '' : `\`${key}\``} | ${flags} | ${cell(describeDefault(spec))} | ${cell(spec.doc)} |`;
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
    '| setting | or, camelCase | flags | default | description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    "## Gunicorn's settings that nodicorn does not take",
    '',
    'Porting a `gunicorn.conf.py` or a command line: each of these is answered with the reason below, as a flag and as a config key.',
    '',
    '| Gunicorn setting | its flags | why |',
    '| --- | --- | --- |',
    ...Object.entries(GUNICORN_NOT_TAKEN).map(([name, entry]) => `| \`${name}\` | ${entry.flags.map((f) => `\`${f}\``).join(', ')} | ${entry.why.replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
}
