import { nearest } from './nearest.js';
import type { SettingsSchema } from './schema.js';
import type { SettingsList, SettingsOf } from './spec.js';

export interface ConfigObject<L extends SettingsList> {
  /** The settings it holds, each checked and typed. */
  readonly values: Partial<SettingsOf<L>>;
  /** The package's own keys (hooks, upstreams…), by their canonical name, unchecked. */
  readonly rest: Record<string, unknown>;
  /** How the file spelled each key it holds (`post_fork` for postFork), for messages. */
  readonly written: ReadonlyMap<string, string>;
}

const kindOf = (v: unknown) => (Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v);

/**
 * Checks one config object: known keys, right types. A key is a setting's config key or its name;
 * `extraKeys` maps the package's other spellings (hooks, `routes`) to what they name. Unknown keys
 * are refused with the nearest valid one; a setting spelled two ways is refused; an undefined value
 * is left out (`workers: process.env.WORKERS` with the variable unset).
 */
export function readConfigObject<L extends SettingsList>(
  schema: SettingsSchema<L>,
  raw: unknown,
  source: string,
  extraKeys: ReadonlyMap<string, string> = new Map(),
): ConfigObject<L> {
  const { error, explainUnknown, commandLineOnly = [], keysHint } = schema.options;
  const where = `Config file ${source}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw error('config-file', `${where}: expected it to export an object of settings, found ${kindOf(raw)}.`);
  }
  const keyOf = new Map<string, string>();
  for (const key of schema.keys) {
    if (commandLineOnly.includes(key)) continue;
    keyOf.set(key, key);
    const { name } = schema.list[key]!;
    if (name !== undefined) keyOf.set(name, key);
  }
  for (const [written, canonical] of extraKeys) keyOf.set(written, canonical);

  const values: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  for (const [written, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const key = keyOf.get(written);
    if (key === undefined) {
      const why = explainUnknown?.(written);
      if (why) throw error('config-file', `${where}: "${written}" ${why}`);
      const hint = nearest(written, [...keyOf.keys()]);
      throw error('config-file', `${where}: unknown key "${written}".${hint ? ` Did you mean "${hint}"?` : ''}${keysHint ? ` ${keysHint}` : ''}`);
    }
    const other = spelledAs.get(key);
    if (other !== undefined) throw error('config-file', `${where}: "${other}" and "${written}" are the same setting; keep one of them.`);
    spelledAs.set(key, written);
    if (extraKeys.has(written)) {
      rest[key] = value;
      continue;
    }
    const spec = schema.list[key]!;
    try {
      values[key] = spec.type.from(value);
    } catch (err) {
      throw error('config-file', `${where}: "${written}"${spec.name ? ` (${spec.name})` : ''}: ${(err as Error).message}.`);
    }
  }
  return { values: values as Partial<SettingsOf<L>>, rest, written: spelledAs };
}
