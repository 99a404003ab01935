import { SettingError } from '../errors.js';
import { SETTING_KEYS, SETTINGS, type SettingKey, type Settings } from './definitions.js';
import type { SettingSpec } from './types.js';

/** The default of every setting, computed against an environment (WEB_CONCURRENCY, PORT). */
export function defaultSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const spec = SETTINGS[key] as SettingSpec<unknown>;
    out[key] = typeof spec.default === 'function' ? (spec.default as (e: NodeJS.ProcessEnv) => unknown)(env) : structuredClone(spec.default);
  }
  return out as Settings;
}

/** Runs each setting's range check; throws one SettingError naming the first bad setting. */
export function validateSettings(settings: Settings): Settings {
  for (const key of SETTING_KEYS) {
    const spec = SETTINGS[key] as SettingSpec<unknown>;
    const value = settings[key];
    const typeProblem = spec.type.check(value);
    const problem = typeProblem ?? spec.validate?.(value);
    if (problem) throw new SettingError(`Invalid ${spec.name} (${spec.flags.join(', ')}): ${problem}.`);
  }
  return settings;
}

/** Layers settings: each later layer overrides the earlier ones key by key. */
export function layerSettings(base: Settings, ...layers: Partial<Settings>[]): Settings {
  const out = { ...base } as Record<SettingKey, unknown>;
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) if (value !== undefined) out[key as SettingKey] = value;
  }
  return out as Settings;
}
