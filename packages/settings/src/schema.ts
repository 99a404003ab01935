import type { SettingSpec, SettingsList } from './spec.js';

/**
 * What went wrong, for the package to answer with its own error class and code: a command line it
 * cannot read (`usage`), a value of the wrong type or range (`value`), a config file (`config-file`).
 */
export type SettingsProblem = 'usage' | 'value' | 'config-file';

export interface SchemaOptions {
  /** The command as --help and messages name it: `nodicorn`, `nodicorn proxy`. */
  readonly command: string;
  /** The package's error for a problem; every message is one line naming the setting and the fix. */
  readonly error: (problem: SettingsProblem, message: string) => Error;
  /** Flags the command handles itself (`--help`), returned in `flags`. */
  readonly commandFlags?: readonly string[];
  /** Whether arguments that are not options are taken (the server's APP) or refused. */
  readonly positionals?: boolean;
  /**
   * Another tool's flag or config key this command does not take, answered with why rather than a
   * guess ("is Gunicorn's preload_app, which nodicorn does not take: …"); undefined for a typo.
   */
  readonly explainUnknown?: (written: string) => string | undefined;
  /** Settings a config file may not hold (`config`: a file does not name another). */
  readonly commandLineOnly?: readonly string[];
  /** Said after an unknown config key's suggestion: where the valid keys are listed. */
  readonly keysHint?: string;
  /** Config files looked for when none is given, named in the "not found" answer. */
  readonly defaultConfigFiles?: string;
  /** How a range or type problem names the setting; by default `--flag (key)`. */
  readonly describe?: (key: string, spec: SettingSpec<unknown>) => string;
}

/** A settings list bound to how its command reads and reports it; every kernel function takes one. */
export interface SettingsSchema<L extends SettingsList = SettingsList> {
  readonly list: L;
  readonly keys: readonly (keyof L & string)[];
  readonly options: SchemaOptions;
  /** Every flag of a setting, to its key. */
  readonly flagToKey: ReadonlyMap<string, keyof L & string>;
}

/** Indexes a list once; two settings claiming one flag is a mistake in the list, thrown at load. */
export function defineSettings<L extends SettingsList>(list: L, options: SchemaOptions): SettingsSchema<L> {
  const keys = Object.keys(list) as (keyof L & string)[];
  const flagToKey = new Map<string, keyof L & string>();
  for (const key of keys) {
    for (const flag of list[key]!.flags) {
      const other = flagToKey.get(flag);
      if (other !== undefined || options.commandFlags?.includes(flag)) throw new Error(`${flag} is declared twice (${other ?? 'a command flag'} and ${key})`);
      flagToKey.set(flag, key);
    }
  }
  return { list, keys, options, flagToKey };
}

/** `--flag (key)`: how the proxy's messages name a setting, and the default. */
export function describeSetting<L extends SettingsList>(schema: SettingsSchema<L>, key: string): string {
  const spec = schema.list[key]!;
  return schema.options.describe?.(key, spec) ?? (spec.flags.length ? `${spec.flags.at(-1)} (${key})` : key);
}
