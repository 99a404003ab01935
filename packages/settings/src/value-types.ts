import type { ValueType } from './spec.js';

/** "got …" for a message: raw text quoted as typed, anything else as JSON. */
const shown = (v: unknown) => JSON.stringify(v);

/**
 * A value type from its parser and its check. A config file's value is taken as it is when the check
 * passes, else text is parsed as the flag would be, so `workers: process.env.WORKERS` works.
 * `numbersAsText`: a number is read as its text too, so a ported `cert_reqs = 2` (ssl.CERT_REQUIRED)
 * reads as `required`.
 */
export function valueType<T>(meta: string, parse: (raw: string) => T, check: (value: unknown) => string | undefined, numbersAsText = false): ValueType<T> {
  return {
    meta,
    parse,
    check,
    from(value) {
      if ((typeof value === 'string' || (numbersAsText && typeof value === 'number')) && check(value) !== undefined) return parse(String(value));
      const problem = check(value);
      if (problem) throw new Error(problem);
      return value as T;
    },
  };
}

export const intType = valueType<number>(
  'INT',
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected a whole number, got ${shown(raw)}`);
    return Number(raw);
  },
  (v) => (Number.isInteger(v) ? undefined : `expected a whole number, got ${shown(v)}`),
);

export const secondsType = valueType<number>(
  'SECONDS',
  (raw) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number of seconds, got ${shown(raw)}`);
    return n;
  },
  (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `expected a number of seconds, got ${shown(v)}`),
);

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** nginx's size syntax: `1m`, `512k`, `1024` (bytes). */
export const sizeType = valueType<number>(
  'SIZE',
  (raw) => {
    const m = /^(\d+)([kmg]?)$/i.exec(raw.trim());
    if (!m) throw new Error(`expected a size such as 1m, 512k or 1024, got ${shown(raw)}`);
    return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  },
  (v) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : `expected a size such as 1m, 512k or 1024, got ${shown(v)}`),
);

/** on/off, true/false, yes/no, 1/0: what nginx, Gunicorn and JSON each write. */
export const booleanType = valueType<boolean>(
  'on|off',
  (raw) => {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new Error(`expected on or off (true or false), got ${shown(raw)}`);
  },
  (v) => (typeof v === 'boolean' ? undefined : `expected on or off (true or false), got ${shown(v)}`),
);

export const stringType = valueType<string>(
  'STRING',
  (raw) => raw,
  (v) => (typeof v === 'string' ? undefined : `expected a string, got ${shown(v)}`),
);

export const optionalStringType = valueType<string | null>(
  'STRING',
  (raw) => raw,
  (v) => (v === null || typeof v === 'string' ? undefined : `expected a string or null, got ${shown(v)}`),
);

/** Repeatable flags: each flag adds one item; a config file may give one string or a list. */
export const listType = valueType<string[]>(
  'STRING',
  (raw) => [raw],
  (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : `expected a string or a list of strings, got ${shown(v)}`),
);

/** A Unix file mode creation mask, written as Gunicorn accepts it: octal `0o077`, `0077` or decimal. */
export const umaskType = valueType<number>(
  'INT',
  (raw) => {
    const text = raw.trim();
    const n = /^0o?[0-7]+$/i.test(text) ? parseInt(text.replace(/^0o?/i, '') || '0', 8) : /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 0o777) throw new Error(`expected an octal mask such as 0o022 or 0077, got ${shown(raw)}`);
    return n;
  },
  (v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0o777 ? undefined : `expected a mask from 0 to 0o777, got ${shown(v)}`),
);

/** One of a fixed set of words (`off|optional|on`, `TLSv1.2|TLSv1.3`), any letter case on the command line, kept as declared. */
export function choiceType<T extends string>(choices: readonly T[]): ValueType<T> {
  const expected = `expected one of ${choices.join(', ')}`;
  return valueType<T>(
    choices.join('|'),
    (raw) => {
      const value = choices.find((c) => c.toLowerCase() === raw.trim().toLowerCase());
      if (value === undefined) throw new Error(`${expected}, got ${shown(raw)}`);
      return value;
    },
    (v) => (choices.includes(v as T) ? undefined : `${expected}, got ${shown(v)}`),
  );
}

/**
 * A choice written several ways (Gunicorn's numbers beside nodicorn's words, any letter case), each
 * read as its canonical value; the docs and --help show the distinct canonical values.
 */
export function aliasedChoiceType<T extends string>(spellings: Readonly<Record<string, T>>): ValueType<T> {
  const canonical = [...new Set(Object.values(spellings))];
  const others = Object.keys(spellings).filter((k) => !(canonical as string[]).includes(k) && !canonical.some((c) => c.toLowerCase() === k));
  const written = `${canonical.join(', ')}${others.length ? ` (or ${others.join(', ')})` : ''}`;
  return valueType<T>(
    canonical.join('|'),
    (raw) => {
      const value = spellings[raw.trim().toLowerCase()];
      if (value === undefined) throw new Error(`expected one of ${written}, got ${shown(raw)}`);
      return value;
    },
    (v) => (canonical.includes(v as T) ? undefined : `expected one of ${canonical.join(', ')}, got ${shown(v)}`),
    true,
  );
}

const isStringRecord = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');

/** A map of names to strings (header names to values), given as JSON on the command line. */
export const recordType = valueType<Record<string, string>>(
  'JSON',
  (raw) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error(`expected a JSON object, got ${shown(raw)}`);
    }
    if (!isStringRecord(value)) throw new Error(`expected an object of header names to values, got ${shown(value)}`);
    return value as Record<string, string>;
  },
  (v) => (isStringRecord(v) ? undefined : `expected an object of header names to values, got ${shown(v)}`),
);

/** Range checks for `validate`. */
export const atLeast = (min: number) => (v: number) => (v >= min ? undefined : `must be at least ${min}, got ${v}`);
export const positive = (v: number) => (v > 0 ? undefined : `must be more than 0, got ${v}`);
export const range = (lo: number, hi: number) => (v: number) => (v >= lo && v <= hi ? undefined : `must be from ${lo} to ${hi}, got ${v}`);
