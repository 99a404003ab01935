import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
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

const ALL_KEYS: readonly string[] = [...SETTING_KEYS, ...HOOK_NAMES];

/**
 * Validates one config object: known keys, right types, hooks that are functions. A string where a
 * list is expected is taken as a one-item list, and a string for a number is parsed as the flag
 * would be, so `workers: process.env.WORKERS` works as users expect.
 */
export function validateConfigObject(raw: unknown, path: string): { values: Partial<Settings>; hooks: Partial<Hooks> } {
  const where = `Config file ${path}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SettingError(`${where}: expected it to export an object of settings and hooks, found ${Array.isArray(raw) ? 'an array' : typeof raw}.`);
  }
  const values: Record<string, unknown> = {};
  const hooks: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if ((HOOK_NAMES as readonly string[]).includes(key)) {
      if (typeof value !== 'function') throw new SettingError(`${where}: hook "${key}" must be a function, found ${typeof value}.`);
      hooks[key] = value;
      continue;
    }
    if (!(SETTING_KEYS as readonly string[]).includes(key)) {
      const hint = nearest(key, ALL_KEYS);
      throw new SettingError(`${where}: unknown key "${key}".${hint ? ` Did you mean "${hint}"?` : ''} Keys are the camelCase settings of docs/settings.md and the hooks.`);
    }
    const spec = SETTINGS[key as SettingKey] as SettingSpec<unknown>;
    let typed = value;
    if (typeof value === 'string' && spec.type.check(value) !== undefined) {
      try {
        typed = spec.type.parse(value);
      } catch (err) {
        throw new SettingError(`${where}: "${key}" (${spec.name}): ${(err as Error).message}.`);
      }
    }
    const problem = spec.type.check(typed);
    if (problem) throw new SettingError(`${where}: "${key}" (${spec.name}): ${problem}.`);
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
