import { ProxySettingError } from '../errors.js';
import { nearest } from './nearest.js';

/**
 * Refuses a config object holding a key outside `allowed`, naming it by its full path
 * (`hosts.shop.example.rutes`) and the nearest valid key. `source` names the file for the message.
 */
export function refuseUnknownKeys(value: object, allowed: readonly string[], path: string, source: string): void {
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const hint = nearest(key, allowed);
    throw new ProxySettingError(`${source}: unknown key "${path}.${key}".${hint ? ` Did you mean "${hint}"?` : ` Valid keys: ${allowed.join(', ')}.`}`, 'ERR_PROXY_CONFIG_FILE');
  }
}
