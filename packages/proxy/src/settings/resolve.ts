import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defaultSettings, layerSettings, parseArgs, readConfigFile, readConfigObject, validateSettings } from '@nodicorn/settings';
import { ProxySettingError } from '../errors.js';
import { parseListen, type ListenSpec } from './addresses.js';
import type { ProxySettings } from './definitions.js';
import { PROXY_COMMAND_FLAGS, PROXY_SCHEMA } from './schema.js';
import { upstreamSpec, type UpstreamSpec } from './upstreams.js';

export { PROXY_COMMAND_FLAGS };

/** A path prefix and what serves it; the longest matching prefix wins, as an nginx prefix location. */
export type Route =
  | { readonly prefix: string; readonly kind: 'upstream'; readonly upstream: string }
  | { readonly prefix: string; readonly kind: 'static'; readonly dir: string };

/** Everything the proxy runs from, checked and normalised; rebuilt whole on SIGHUP. */
export interface ProxyConfig {
  readonly settings: ProxySettings;
  readonly listeners: readonly ListenSpec[];
  readonly upstreams: ReadonlyMap<string, UpstreamSpec>;
  /** Longest prefix first. */
  readonly routes: readonly Route[];
  readonly cwd: string;
}

/** Config-file keys with more shape than a flag: `static` may hold { prefix, dir } objects. */
const STRUCTURE_KEYS = new Map(['upstreams', 'routes', 'static'].map((key) => [key, key]));

/** What a proxy config file may hold besides plain settings. */
interface ConfigFileShape {
  readonly upstreams?: unknown;
  readonly routes?: unknown;
  readonly static?: unknown;
}

function bad(setting: string, problem: string): never {
  throw new ProxySettingError(`Invalid ${setting}: ${problem}.`);
}

function normalisePrefix(prefix: unknown, where: string): string {
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || /[?#\s\\]|\/\.\.?(\/|$)/.test(prefix)) {
    bad(where, `prefix must be a path starting with /, got ${JSON.stringify(prefix)}`);
  }
  return prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
}

function staticRoute(entry: unknown, base: string, where: string): Route {
  let prefix: unknown;
  let dir: unknown;
  if (typeof entry === 'string') {
    const eq = entry.indexOf('=');
    if (eq < 0) bad(where, `expected /PREFIX=DIR, got "${entry}"`);
    [prefix, dir] = [entry.slice(0, eq), entry.slice(eq + 1)];
  } else if (entry && typeof entry === 'object') {
    ({ prefix, dir } = entry as { prefix?: unknown; dir?: unknown });
  }
  if (typeof dir !== 'string' || dir === '') bad(where, `expected /PREFIX=DIR or { prefix, dir }, got ${JSON.stringify(entry)}`);
  const abs = resolve(base, dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) bad(where, `${abs} is not a directory; create it or fix the path`);
  return { prefix: normalisePrefix(prefix, where), kind: 'static', dir: abs };
}

/**
 * Builds the config from `nodicorn proxy` arguments: defaults < config file < flags, as the server
 * layers its settings. Every problem is one ProxySettingError naming the setting and the fix.
 */
export async function resolveProxyConfig(argv: readonly string[], cwd = process.cwd()): Promise<ProxyConfig & { flags: Set<string> }> {
  const { values, flags } = parseArgs(PROXY_SCHEMA, argv);
  let file: ConfigFileShape = {};
  let fromFile: Partial<ProxySettings> = {};
  let fileBase = cwd;
  if (values.config) {
    const path = resolve(cwd, values.config);
    const read = readConfigObject(PROXY_SCHEMA, await readConfigFile(PROXY_SCHEMA, path), path, STRUCTURE_KEYS);
    [file, fromFile, fileBase] = [read.rest, read.values, dirname(path)];
  }
  const settings = validateSettings(PROXY_SCHEMA, layerSettings(defaultSettings(PROXY_SCHEMA), fromFile, values));

  const listeners = settings.listen.map((text) => {
    const parsed = parseListen(text);
    if (typeof parsed === 'string') bad('--listen', parsed);
    return parsed;
  });
  if (listeners.length === 0) bad('--listen', 'give at least one http://HOST:PORT or https://HOST:PORT');
  if ((settings.tlsCert === null) !== (settings.tlsKey === null)) bad('--tls-cert/--tls-key', 'give both the certificate and its key, or neither for a generated one');

  const upstreams = new Map<string, UpstreamSpec>();
  if (file.upstreams !== undefined) {
    if (typeof file.upstreams !== 'object' || file.upstreams === null || Array.isArray(file.upstreams)) bad('upstreams (config file)', 'expected { NAME: ["unix:PATH" | "HOST:PORT", ...] | { servers, balance, healthCheck, sticky } }');
    for (const [name, spec] of Object.entries(file.upstreams)) upstreams.set(name, upstreamSpec(spec, `upstreams.${name} (config file)`));
  }
  if (values.upstream?.length) upstreams.set('default', upstreamSpec(values.upstream, '--upstream'));
  else if (settings.upstream.length && !upstreams.has('default')) upstreams.set('default', upstreamSpec(settings.upstream, 'upstream (config file)'));

  const routes: Route[] = [];
  if (file.routes !== undefined) {
    if (!Array.isArray(file.routes)) bad('routes (config file)', 'expected [{ prefix, upstream }, ...]');
    for (const [i, r] of (file.routes as unknown[]).entries()) {
      const { prefix, upstream } = (r ?? {}) as { prefix?: unknown; upstream?: unknown };
      const where = `routes[${i}] (config file)`;
      if (typeof upstream !== 'string' || !upstreams.has(upstream)) {
        bad(where, `upstream ${JSON.stringify(upstream)} is not one of the upstreams (${[...upstreams.keys()].join(', ') || 'none defined'})`);
      }
      routes.push({ prefix: normalisePrefix(prefix, where), kind: 'upstream', upstream });
    }
  }
  // --static on the command line replaces the file's mounts, as every repeatable flag does.
  if (file.static !== undefined && !values.static) {
    if (!Array.isArray(file.static)) bad('static (config file)', 'expected ["/PREFIX=DIR" | { prefix, dir }, ...]');
    for (const entry of file.static as unknown[]) routes.push(staticRoute(entry, fileBase, 'static (config file)'));
  }
  for (const entry of values.static ?? []) routes.push(staticRoute(entry, cwd, '--static'));
  if (upstreams.has('default') && !routes.some((r) => r.prefix === '/')) routes.push({ prefix: '/', kind: 'upstream', upstream: 'default' });
  const seen = new Set<string>();
  for (const r of routes) {
    if (seen.has(r.prefix)) bad('routes', `prefix ${r.prefix} is mapped twice; keep one`);
    seen.add(r.prefix);
  }
  if (routes.length === 0) bad('--upstream/--static', 'nothing to serve; give --upstream unix:PATH|HOST:PORT, --static /PREFIX=DIR or a --config with routes');
  routes.sort((a, b) => b.prefix.length - a.prefix.length);
  return { settings, listeners, upstreams, routes, cwd, flags };
}
