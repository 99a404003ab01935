import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProxySettingError } from '../errors.js';

/** What a proxy config file may hold besides plain settings. */
export interface ConfigFileShape {
  readonly [key: string]: unknown;
  readonly upstreams?: unknown;
  readonly routes?: unknown;
}

/**
 * Reads `proxy.config.json` or imports `proxy.config.mjs` (its default export, or a function
 * returning the object). A cache-busting query makes SIGHUP re-import an edited .mjs.
 */
export async function loadConfigFile(file: string, cwd: string): Promise<ConfigFileShape> {
  const path = resolve(cwd, file);
  const fail = (what: string): never => {
    throw new ProxySettingError(`Config file ${path}: ${what}`, 'ERR_PROXY_CONFIG_FILE');
  };
  let value: unknown;
  if (/\.json$/i.test(path)) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); check --config.`);
    }
    try {
      value = JSON.parse(text);
    } catch (err) {
      fail(`is not valid JSON (${(err as Error).message}).`);
    }
  } else if (/\.m?js$/i.test(path)) {
    try {
      const mod = (await import(`${pathToFileURL(path).href}?v=${Date.now()}`)) as { default?: unknown };
      value = typeof mod.default === 'function' ? await (mod.default as () => unknown)() : mod.default;
    } catch (err) {
      fail(`could not be imported (${err instanceof Error ? err.message : String(err)}).`);
    }
  } else {
    fail('must end in .json, .mjs or .js.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('must hold (or export default) an object.');
  return value as ConfigFileShape;
}
