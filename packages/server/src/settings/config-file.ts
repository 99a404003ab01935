import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readConfigFile, readConfigObject } from '@nodicorn/settings';
import { SettingError } from '../errors.js';
import type { Settings } from './definitions.js';
import { HOOK_NAMES, type Hooks } from './hooks.js';
import { CONFIG_FILE_NAMES, SETTINGS_SCHEMA } from './schema.js';

export { CONFIG_FILE_NAMES };

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

/** Gunicorn's config files spell hooks in snake_case (`post_fork`), as its settings. */
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const HOOK_SPELLINGS = new Map<string, string>(HOOK_NAMES.flatMap((hook) => [[hook, hook], [snakeCase(hook), hook]] as const));

/**
 * Validates one config object: settings by camelCase key or Gunicorn name, each of the right type
 * (text parsed as its flag would be), and hooks that are functions.
 */
export function validateConfigObject(raw: unknown, path: string): { values: Partial<Settings>; hooks: Partial<Hooks> } {
  const { values, rest, written } = readConfigObject(SETTINGS_SCHEMA, raw, path, HOOK_SPELLINGS);
  for (const [hook, value] of Object.entries(rest)) {
    if (typeof value !== 'function') throw new SettingError(`Config file ${path}: hook "${written.get(hook)}" must be a function, found ${typeof value}.`);
  }
  return { values, hooks: rest as Partial<Hooks> };
}

export async function loadConfigFile(path: string): Promise<ConfigFile> {
  const absolute = resolve(path);
  return { path: absolute, ...validateConfigObject(await readConfigFile(SETTINGS_SCHEMA, absolute), absolute) };
}
