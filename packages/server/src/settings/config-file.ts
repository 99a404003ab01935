import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { notTaken } from './gunicorn-only.js';
import { SettingError } from '../errors.js';
import { SETTING_KEYS, SETTINGS, type SettingKey, type Settings } from './definitions.js';
import { HOOK_NAMES, type Hooks } from './hooks.js';
import { nearest } from './nearest.js';
import type { SettingSpec } from './types.js';

/** Looked for in the working directory, in this order, when no -c is given. */
export const CONFIG_FILE_NAMES = ['nodicorn.config.js', 'nodicorn.config.mjs', 'nodicorn.config.cjs', 'nodicorn.config.json'] as const;

export interface ConfigFile {
  readonly path: string;
  readonly values: Partial<Settings>;
  readonly hooks: Partial<Hooks>;
}

export function findConfigFile(cwd: string): string | null {
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (existsSync(path)) return path;
  }
  return null;
}

/** Reads a config module fresh each time (HUP re-reads it), bypassing the ESM and CJS caches. */
async function readModule(path: string): Promise<unknown> {
  if (path.endsWith('.json')) return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  if (path.endsWith('.cjs')) {
    const require = createRequire(path);
    delete require.cache[path];
    return require(path) as unknown;
  }
  const namespace = (await import(`${pathToFileURL(path).href}?load=${Date.now()}`)) as { default?: unknown };
  return namespace.default ?? namespace;
}

/** Gunicorn's config files spell settings and hooks in snake_case (`max_requests`, `post_fork`). */
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Every spelling a config file may use, mapped to the setting or hook it names. */
const KEY_OF = new Map<string, string>([
  ...SETTING_KEYS.flatMap((key) => [[key, key], [SETTINGS[key].name, key]] as const),
  ...HOOK_NAMES.flatMap((hook) => [[hook, hook], [snakeCase(hook), hook]] as const),
]);
const ALL_KEYS: readonly string[] = [...KEY_OF.keys()];

/**
 * Validates one config object: known keys, right types, hooks that are functions. A string where a
 * list is expected is taken as a one-item list, and a string for a number is parsed as the flag
 * would be, so `workers: process.env.WORKERS` works as users expect; a number for a choice is too,
 * so a ported `cert_reqs = 2` (ssl.CERT_REQUIRED) reads as `required`.
 */
export function validateConfigObject(raw: unknown, path: string): { values: Partial<Settings>; hooks: Partial<Hooks> } {
  const where = `Config file ${path}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SettingError(`${where}: expected it to export an object of settings and hooks, found ${Array.isArray(raw) ? 'an array' : typeof raw}.`);
  }
  const values: Record<string, unknown> = {};
  const hooks: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [written, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const key = KEY_OF.get(written);
    if (key === undefined) {
      const gunicorn = notTaken(written);
      if (gunicorn) throw new SettingError(`${where}: "${written}" is Gunicorn's ${gunicorn.name}, which nodicorn does not take: ${gunicorn.why}`);
      const hint = nearest(written, ALL_KEYS);
      throw new SettingError(`${where}: unknown key "${written}".${hint ? ` Did you mean "${hint}"?` : ''} Keys are the settings of nodicorn --help (snake_case as in Gunicorn, or camelCase) and the hooks.`);
    }
    const other = spelledAs.get(key);
    if (other !== undefined) throw new SettingError(`${where}: "${other}" and "${written}" are the same setting; keep one of them.`);
    spelledAs.set(key, written);
    if ((HOOK_NAMES as readonly string[]).includes(key)) {
      if (typeof value !== 'function') throw new SettingError(`${where}: hook "${written}" must be a function, found ${typeof value}.`);
      hooks[key] = value;
      continue;
    }
    const spec = SETTINGS[key as SettingKey] as SettingSpec<unknown>;
    let typed = value;
    if ((typeof value === 'string' || typeof value === 'number') && spec.type.check(value) !== undefined) {
      try {
        typed = spec.type.parse(String(value));
      } catch (err) {
        throw new SettingError(`${where}: "${written}" (${spec.name}): ${(err as Error).message}.`);
      }
    }
    const problem = spec.type.check(typed);
    if (problem) throw new SettingError(`${where}: "${written}" (${spec.name}): ${problem}.`);
    values[key] = typed;
  }
  return { values: values as Partial<Settings>, hooks: hooks as Partial<Hooks> };
}

export async function loadConfigFile(path: string): Promise<ConfigFile> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new SettingError(`Config file ${absolute} not found (from -c/--config). Check the path, or drop -c to use ./nodicorn.config.{js,mjs,cjs,json}.`);
  let raw: unknown;
  try {
    raw = await readModule(absolute);
  } catch (err) {
    throw new SettingError(`Config file ${absolute} could not be loaded: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  return { path: absolute, ...validateConfigObject(raw, absolute) };
}
