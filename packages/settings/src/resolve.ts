import { describeSetting, type SettingsSchema } from './schema.js';
import type { SettingsList, SettingsOf } from './spec.js';

/** The default of every setting, computed against an environment (WEB_CONCURRENCY, PORT). */
export function defaultSettings<L extends SettingsList>(schema: SettingsSchema<L>, env: NodeJS.ProcessEnv = process.env): SettingsOf<L> {
  const out: Record<string, unknown> = {};
  for (const key of schema.keys) {
    const fallback = schema.list[key]!.default;
    out[key] = typeof fallback === 'function' ? (fallback as (e: NodeJS.ProcessEnv) => unknown)(env) : structuredClone(fallback);
  }
  return out as SettingsOf<L>;
}

/** Layers settings: each later layer overrides the earlier ones key by key (undefined is no value). */
export function layerSettings<S extends object>(base: S, ...layers: Partial<S>[]): S {
  const out = { ...base } as Record<string, unknown>;
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) if (value !== undefined) out[key] = value;
  }
  return out as S;
}

/** Checks each setting's type and range; throws the schema's error naming the first bad setting. */
export function validateSettings<L extends SettingsList, S extends SettingsOf<L>>(schema: SettingsSchema<L>, settings: S): S {
  for (const key of schema.keys) {
    const spec = schema.list[key]!;
    const value = (settings as Record<string, unknown>)[key];
    const problem = spec.type.check(value) ?? spec.validate?.(value);
    if (problem) throw schema.options.error('value', `Invalid ${describeSetting(schema, key)}: ${problem}.`);
  }
  return settings;
}
