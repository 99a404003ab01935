import { SettingError, UsageError } from '../errors.js';
import { SETTING_KEYS, SETTINGS, type SettingKey, type Settings } from './definitions.js';
import { notTaken } from './gunicorn-only.js';
import { nearest } from './nearest.js';
import type { SettingSpec } from './types.js';

export interface ParsedArgs {
  readonly values: Partial<Settings>;
  readonly positionals: string[];
}

const FLAG_TO_KEY = new Map<string, SettingKey>(
  SETTING_KEYS.flatMap((key) => SETTINGS[key].flags.map((flag) => [flag, key] as const)),
);

/** Every flag the parser knows, including the command's own (--help, --version). */
export function knownFlags(extra: readonly string[] = []): string[] {
  return [...FLAG_TO_KEY.keys(), ...extra];
}

/**
 * A setting typed by its name rather than its flag (`--pidfile` for Gunicorn's `pidfile`, whose flag
 * is `--pid`; `--worker_class`): its real flag, which spelling distance would miss.
 */
function flagForSettingName(flag: string): string | undefined {
  const name = flag.replace(/^--?/, '').replaceAll('-', '_');
  const key = SETTING_KEYS.find((k) => SETTINGS[k].name === name);
  return key ? SETTINGS[key].flags.at(-1) : undefined;
}

function parseValue(key: SettingKey, flag: string, raw: string): unknown {
  const spec = SETTINGS[key] as SettingSpec<unknown>;
  try {
    return spec.type.parse(raw);
  } catch (err) {
    throw new SettingError(`Invalid value for ${flag} (${spec.name}): ${(err as Error).message}.`);
  }
}

/**
 * Parses command-line arguments against the settings list: `--flag value`, `--flag=value`, `-w4`,
 * boolean flags, repeatable flags, `--` ending the options. `extraBooleans` are the command's own
 * flags (like --help), returned in `positionals`-free form via the `flags` set.
 */
export function parseArgs(argv: readonly string[], extraBooleans: readonly string[] = []): ParsedArgs & { flags: Set<string> } {
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let flag = arg;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) [flag, inline] = [arg.slice(0, eq), arg.slice(eq + 1)];
    } else if (arg.length > 2 && !FLAG_TO_KEY.has(arg)) {
      [flag, inline] = [arg.slice(0, 2), arg.slice(2)];
    }
    if (extraBooleans.includes(flag)) {
      flags.add(flag);
      continue;
    }
    const key = FLAG_TO_KEY.get(flag);
    if (!key) {
      const gunicorn = notTaken(flag);
      if (gunicorn) throw new UsageError('ERR_UNKNOWN_OPTION', `${flag} is Gunicorn's ${gunicorn.name}, which nodicorn does not take: ${gunicorn.why}`);
      const hint = flagForSettingName(flag) ?? nearest(flag, knownFlags(extraBooleans));
      throw new UsageError('ERR_UNKNOWN_OPTION', `Unknown option ${flag}.${hint ? ` Did you mean ${hint}?` : ''} See nodicorn --help.`);
    }
    const spec = SETTINGS[key] as SettingSpec<unknown>;
    let raw: string;
    if (spec.boolean) {
      raw = inline ?? 'true';
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError('ERR_UNKNOWN_OPTION', `Option ${flag} needs a value (${spec.type.meta}).`);
      raw = next;
      i++;
    }
    const value = parseValue(key, flag, raw);
    values[key] = spec.repeatable && Array.isArray(values[key]) ? [...(values[key] as unknown[]), ...(value as unknown[])] : value;
  }
  return { values: values as Partial<Settings>, positionals, flags };
}

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
