import { ProxySettingError } from '../errors.js';
import { PROXY_SETTING_KEYS, PROXY_SETTINGS, type ProxySettingKey, type ProxySettings, type ProxySettingSpec } from './definitions.js';
import { nearest } from './nearest.js';

const FLAG_TO_KEY = new Map<string, ProxySettingKey>(
  PROXY_SETTING_KEYS.flatMap((key) => PROXY_SETTINGS[key].flags.map((flag) => [flag, key] as const)),
);

export interface ParsedProxyArgs {
  readonly values: Partial<ProxySettings>;
  /** The command's own flags that were given (--help). */
  readonly flags: Set<string>;
}

/** `--flag value`, `--flag=value`, boolean and repeatable flags, against the settings list. */
export function parseProxyArgs(argv: readonly string[], commandFlags: readonly string[] = []): ParsedProxyArgs {
  const values: Record<string, unknown> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new ProxySettingError(`Unexpected argument "${arg}": nodicorn proxy takes only options (see nodicorn proxy --help).`, 'ERR_PROXY_UNKNOWN_OPTION');
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (commandFlags.includes(flag)) {
      flags.add(flag);
      continue;
    }
    const key = FLAG_TO_KEY.get(flag);
    if (!key) {
      const hint = nearest(flag, [...FLAG_TO_KEY.keys(), ...commandFlags]);
      throw new ProxySettingError(`Unknown option ${flag}.${hint ? ` Did you mean ${hint}?` : ''} See nodicorn proxy --help.`, 'ERR_PROXY_UNKNOWN_OPTION');
    }
    const spec = PROXY_SETTINGS[key] as ProxySettingSpec<unknown>;
    let raw = inline;
    if (raw === undefined && spec.boolean) raw = 'on';
    if (raw === undefined) {
      raw = argv[++i];
      if (raw === undefined) throw new ProxySettingError(`Option ${flag} needs a value (${spec.type.meta}).`, 'ERR_PROXY_UNKNOWN_OPTION');
    }
    let value: unknown;
    try {
      value = spec.type.parse(raw);
    } catch (err) {
      throw new ProxySettingError(`Invalid value for ${flag}: ${(err as Error).message}.`);
    }
    values[key] = spec.repeatable && Array.isArray(values[key]) ? [...(values[key] as unknown[]), ...(value as unknown[])] : value;
  }
  return { values: values as Partial<ProxySettings>, flags };
}
