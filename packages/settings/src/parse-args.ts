import { nearest } from './nearest.js';
import type { SettingsSchema } from './schema.js';
import type { SettingsList, SettingsOf } from './spec.js';

export interface ParsedArgs<L extends SettingsList> {
  readonly values: Partial<SettingsOf<L>>;
  /** Arguments that are not options (the server's APP), in order. */
  readonly positionals: string[];
  /** The command's own flags that were given (--help). */
  readonly flags: Set<string>;
}

/**
 * A flag spelled as its setting's name or key (`--pidfile` for Gunicorn's `pidfile`, whose flag is
 * `--pid`; `--worker_class`; `--stateDir`): its real flag, which spelling distance would miss.
 */
function flagForSettingName<L extends SettingsList>(schema: SettingsSchema<L>, flag: string): string | undefined {
  const written = flag.replace(/^--?/, '');
  const snake = written.replaceAll('-', '_');
  const key = schema.keys.find((k) => {
    const spec = schema.list[k]!;
    return spec.flags.length > 0 && (spec.name === snake || k === written);
  });
  return key ? schema.list[key]!.flags.at(-1) : undefined;
}

/**
 * Reads a command line against a settings list: `--flag value`, `--flag=value`, `-w4`, boolean
 * flags (`--hsts`, `--hsts=off`), repeatable flags, `--` ending the options where the command takes
 * positionals. Every problem is the schema's error, naming the flag and the fix.
 */
export function parseArgs<L extends SettingsList>(schema: SettingsSchema<L>, argv: readonly string[]): ParsedArgs<L> {
  const { command, error, commandFlags = [], positionals: takesPositionals = false, explainUnknown } = schema.options;
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      if (!takesPositionals) throw error('usage', `Unexpected argument "${arg}": ${command} takes only options (see ${command} --help).`);
      if (arg === '--') {
        positionals.push(...argv.slice(i + 1));
        break;
      }
      positionals.push(arg);
      continue;
    }
    let flag = arg;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) [flag, inline] = [arg.slice(0, eq), arg.slice(eq + 1)];
    } else if (arg.length > 2 && !schema.flagToKey.has(arg) && !commandFlags.includes(arg)) {
      [flag, inline] = [arg.slice(0, 2), arg.slice(2)];
    }
    if (commandFlags.includes(flag)) {
      flags.add(flag);
      continue;
    }
    const key = schema.flagToKey.get(flag);
    if (key === undefined) {
      const why = explainUnknown?.(flag);
      if (why) throw error('usage', `${flag} ${why}`);
      const hint = flagForSettingName(schema, flag) ?? nearest(flag, [...schema.flagToKey.keys(), ...commandFlags]);
      throw error('usage', `Unknown option ${flag}.${hint ? ` Did you mean ${hint}?` : ''} See ${command} --help.`);
    }
    const spec = schema.list[key]!;
    let raw = inline;
    if (raw === undefined && spec.boolean) raw = 'on';
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw error('usage', `Option ${flag} needs a value (${spec.type.meta}).`);
    }
    let value: unknown;
    try {
      value = spec.type.parse(raw);
    } catch (err) {
      throw error('value', `Invalid value for ${flag}${spec.name ? ` (${spec.name})` : ''}: ${(err as Error).message}.`);
    }
    values[key] = spec.repeatable && Array.isArray(values[key]) ? [...(values[key] as unknown[]), ...(value as unknown[])] : value;
  }
  return { values: values as Partial<SettingsOf<L>>, positionals, flags };
}
