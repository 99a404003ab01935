import type { SettingType } from './types.js';

export const intType: SettingType<number> = {
  meta: 'INT',
  parse(raw) {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected a whole number, got "${raw}"`);
    return Number(raw);
  },
  check: (v) => (Number.isInteger(v) ? undefined : `expected a whole number, got ${JSON.stringify(v)}`),
};

export const secondsType: SettingType<number> = {
  meta: 'SECONDS',
  parse(raw) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`expected a number of seconds, got "${raw}"`);
    return n;
  },
  check: (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `expected a number of seconds, got ${JSON.stringify(v)}`),
};

export const stringType: SettingType<string> = {
  meta: 'STRING',
  parse: (raw) => raw,
  check: (v) => (typeof v === 'string' ? undefined : `expected a string, got ${JSON.stringify(v)}`),
};

export const optionalStringType: SettingType<string | null> = {
  meta: 'STRING',
  parse: (raw) => raw,
  check: (v) => (v === null || typeof v === 'string' ? undefined : `expected a string or null, got ${JSON.stringify(v)}`),
};

export const booleanType: SettingType<boolean> = {
  meta: '',
  parse(raw) {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new Error(`expected true or false, got "${raw}"`);
  },
  check: (v) => (typeof v === 'boolean' ? undefined : `expected true or false, got ${JSON.stringify(v)}`),
};

export const stringListType: SettingType<string[]> = {
  meta: 'STRING',
  parse: (raw) => [raw],
  check: (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : `expected a list of strings, got ${JSON.stringify(v)}`),
};

/** A Unix file mode creation mask, written as Gunicorn accepts it: octal `0o077`, `0077` or decimal. */
export const umaskType: SettingType<number> = {
  meta: 'INT',
  parse(raw) {
    const text = raw.trim();
    const n = /^0o?[0-7]+$/i.test(text) ? parseInt(text.replace(/^0o?/i, '') || '0', 8) : /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 0o777) throw new Error(`expected an octal mask such as 0o022 or 0077, got "${raw}"`);
    return n;
  },
  check: (v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0o777 ? undefined : `expected a mask from 0 to 0o777, got ${JSON.stringify(v)}`),
};

export function choiceType<T extends string>(choices: readonly T[]): SettingType<T> {
  const list = choices.join(', ');
  return {
    meta: choices.join('|'),
    parse(raw) {
      const value = raw.toLowerCase() as T;
      if (!choices.includes(value)) throw new Error(`expected one of ${list}, got "${raw}"`);
      return value;
    },
    check: (v) => (choices.includes(v as T) ? undefined : `expected one of ${list}, got ${JSON.stringify(v)}`),
  };
}

/**
 * A choice written several ways (Gunicorn's numbers beside nodicorn's words, any letter case), each
 * read as its canonical value; the docs and --help show the distinct canonical values.
 */
export function aliasedChoiceType<T extends string>(spellings: Readonly<Record<string, T>>): SettingType<T> {
  const canonical = [...new Set(Object.values(spellings))];
  const others = Object.keys(spellings).filter((k) => !(canonical as string[]).includes(k) && !canonical.some((c) => c.toLowerCase() === k));
  const written = `${canonical.join(', ')}${others.length ? ` (or ${others.join(', ')})` : ''}`;
  return {
    meta: canonical.join('|'),
    parse(raw) {
      const value = spellings[raw.trim().toLowerCase()];
      if (value === undefined) throw new Error(`expected one of ${written}, got "${raw}"`);
      return value;
    },
    check: (v) => (canonical.includes(v as T) ? undefined : `expected one of ${canonical.join(', ')}, got ${JSON.stringify(v)}`),
  };
}

export const atLeast = (min: number) => (v: number) => (v >= min ? undefined : `must be at least ${min}, got ${v}`);

/** A map of header names to values (secure_scheme_headers); config file only. */
export const recordType: SettingType<Record<string, string>> = {
  meta: 'JSON',
  parse(raw) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error(`expected a JSON object, got "${raw}"`);
    }
    const problem = recordType.check(value);
    if (problem) throw new Error(problem);
    return value as Record<string, string>;
  },
  check: (v) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
      ? undefined
      : `expected an object of header names to values, got ${JSON.stringify(v)}`,
};
