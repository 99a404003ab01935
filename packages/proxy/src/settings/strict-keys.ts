import { ProxySettingError } from '../errors.js';
import { nearest } from '@nodicorn/settings';

/** What one kind of config object (a route, a static mount, a rate limit…) may hold. */
export interface KeySet {
  /** What the object is called in the error: "a route", "limitReq". */
  readonly name: string;
  readonly keys: readonly string[];
  /** Keys the issue plans but the proxy does not do yet: refused with this reason, never ignored. */
  readonly pending?: Readonly<Record<string, string>>;
}

/**
 * Refuses a key the proxy would otherwise ignore in silence (a `limitReqq` that limits nothing):
 * one line naming its path (`routes[2].limitReqq`) and the nearest valid key. `where` prefixes the
 * message (`Config file proxy.json`), as every config-file error does.
 */
export function refuseUnknownKeys(value: object, set: KeySet, path: string, where: string): void {
  for (const key of Object.keys(value)) {
    if (set.keys.includes(key)) continue;
    const pending = set.pending?.[key];
    if (pending !== undefined) throw new ProxySettingError(`${where}: ${path}.${key} is not supported yet (${pending}); remove it.`, 'ERR_PROXY_CONFIG_FILE');
    const hint = nearest(key, set.keys);
    throw new ProxySettingError(
      `${where}: ${path}.${key} is not a key of ${set.name}; ${hint ? `did you mean ${hint}? ` : ''}${set.name} takes ${set.keys.join(', ')}.`,
      'ERR_PROXY_CONFIG_FILE',
    );
  }
}
