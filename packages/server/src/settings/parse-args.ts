import { parseArgs as parse, type ParsedArgs } from '@nodicorn/settings';
import { SettingError } from '../errors.js';
import type { SETTINGS } from './definitions.js';
import { SETTINGS_SCHEMA } from './schema.js';

/** Every setting's flag, and `extra` (the command's own, such as --help). */
export function knownFlags(extra: readonly string[] = []): string[] {
  return [...SETTINGS_SCHEMA.flagToKey.keys(), ...extra];
}

/** A `nodicorn` command line: settings, the command's own flags (--help) and the APP positional. */
export const parseArgs = (argv: readonly string[]): ParsedArgs<typeof SETTINGS> => parse(SETTINGS_SCHEMA, argv);

/** Splits NODICORN_CMD_ARGS like a shell would for simple quoting ('…', "…", backslash). */
export function splitCommandLine(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | null = null;
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || current) out.push(current);
      current = '';
      has = false;
    } else {
      current += ch;
      has = true;
    }
  }
  if (quote) throw new SettingError(`NODICORN_CMD_ARGS has an unterminated ${quote} quote.`);
  if (has || current) out.push(current);
  return out;
}
