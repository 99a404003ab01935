import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ProxySettingError } from '../errors.js';
import { routeTraffic, TRAFFIC_ROUTE_KEYS, type RouteTraffic } from '../traffic/route-config.js';
import { parseListen, type ListenSpec } from './addresses.js';
import { loadConfigFile, type ConfigFileShape } from './config-file.js';
import { PROXY_SETTING_KEYS, PROXY_SETTINGS, type ProxySettingKey, type ProxySettings, type ProxySettingSpec } from './definitions.js';
import { nearest } from './nearest.js';
import { parseProxyArgs } from './parse-args.js';
import { upstreamSpec, type UpstreamSpec } from './upstreams.js';
import { refuseUnknownKeys, type KeySet } from './strict-keys.js';

/** The keys of a route object in a config file. */
export const ROUTE_KEYS: KeySet = {
  name: 'a route',
  keys: ['prefix', 'upstream', ...TRAFFIC_ROUTE_KEYS],
  pending: { cache: 'the proxy cache is planned in issue #16 and not built; a route with cache would be served uncached' },
};
const STATIC_MOUNT_KEYS: KeySet = { name: 'a static mount', keys: ['prefix', 'dir'] };

/** A path prefix and what serves it; the longest matching prefix wins, as an nginx prefix location. */
export type Route =
  | { readonly prefix: string; readonly kind: 'upstream'; readonly upstream: string; readonly traffic?: RouteTraffic }
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

export const PROXY_COMMAND_FLAGS = ['-h', '--help'] as const;
/** Config-file keys with more shape than a flag: `static` may hold { prefix, dir } objects. */
const STRUCTURE_KEYS = ['upstreams', 'routes', 'static'] as const;

function bad(setting: string, problem: string): never {
  throw new ProxySettingError(`Invalid ${setting}: ${problem}.`);
}

function flagsOf(key: ProxySettingKey): string {
  return PROXY_SETTINGS[key].flags.at(-1)!;
}

/** Settings from a config file, each checked by its setting's type. */
function settingsFromFile(file: ConfigFileShape, path: string): Partial<ProxySettings> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(file)) {
    if ((STRUCTURE_KEYS as readonly string[]).includes(key)) continue;
    if (!(key in PROXY_SETTINGS) || key === 'config') {
      const hint = nearest(key, [...PROXY_SETTING_KEYS, ...STRUCTURE_KEYS]);
      throw new ProxySettingError(`Config file ${path}: unknown key "${key}".${hint ? ` Did you mean "${hint}"?` : ''}`, 'ERR_PROXY_CONFIG_FILE');
    }
    const spec = PROXY_SETTINGS[key as ProxySettingKey] as ProxySettingSpec<unknown>;
    try {
      out[key] = spec.type.from(value);
    } catch (err) {
      throw new ProxySettingError(`Config file ${path}: "${key}" ${(err as Error).message}.`, 'ERR_PROXY_CONFIG_FILE');
    }
  }
  return out as Partial<ProxySettings>;
}

function normalisePrefix(prefix: unknown, where: string): string {
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || /[?#\s\\]|\/\.\.?(\/|$)/.test(prefix)) {
    bad(where, `prefix must be a path starting with /, got ${JSON.stringify(prefix)}`);
  }
  return prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix;
}

function staticRoute(entry: unknown, base: string, where: string, strict?: { path: string; file: string }): Route {
  let prefix: unknown;
  let dir: unknown;
  if (typeof entry === 'string') {
    const eq = entry.indexOf('=');
    if (eq < 0) bad(where, `expected /PREFIX=DIR, got "${entry}"`);
    [prefix, dir] = [entry.slice(0, eq), entry.slice(eq + 1)];
  } else if (entry && typeof entry === 'object') {
    if (strict) refuseUnknownKeys(entry, STATIC_MOUNT_KEYS, strict.path, strict.file);
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
  const { values, flags } = parseProxyArgs(argv, PROXY_COMMAND_FLAGS);
  const settings = Object.fromEntries(PROXY_SETTING_KEYS.map((k) => [k, structuredClone(PROXY_SETTINGS[k].default)])) as ProxySettings;
  let file: ConfigFileShape = {};
  let fileBase = cwd;
  const configPath = values.config ?? null;
  if (configPath) {
    file = await loadConfigFile(configPath, cwd);
    fileBase = dirname(resolve(cwd, configPath));
    Object.assign(settings, settingsFromFile(file, configPath));
  }
  Object.assign(settings, values);
  for (const key of PROXY_SETTING_KEYS) {
    const spec = PROXY_SETTINGS[key] as ProxySettingSpec<unknown>;
    const problem = spec.validate?.(settings[key]);
    if (problem) bad(`${flagsOf(key)} (${key})`, problem);
  }

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
    for (const [name, spec] of Object.entries(file.upstreams)) upstreams.set(name, upstreamSpec(spec, `upstreams.${name}`, configPath!));
  }
  if (values.upstream?.length) upstreams.set('default', upstreamSpec(values.upstream, '--upstream'));
  else if (settings.upstream.length && !upstreams.has('default')) upstreams.set('default', upstreamSpec(settings.upstream, 'upstream', configPath ?? ''));

  const routes: Route[] = [];
  if (file.routes !== undefined) {
    if (!Array.isArray(file.routes)) bad('routes (config file)', 'expected [{ prefix, upstream }, ...]');
    for (const [i, r] of (file.routes as unknown[]).entries()) {
      const where = `routes[${i}] (config file)`;
      if (typeof r !== 'object' || r === null || Array.isArray(r)) bad(where, `expected { prefix, upstream }, got ${JSON.stringify(r)}`);
      refuseUnknownKeys(r, ROUTE_KEYS, `routes[${i}]`, `Config file ${configPath}`);
      const { prefix, upstream } = r as { prefix?: unknown; upstream?: unknown };
      if (typeof upstream !== 'string' || !upstreams.has(upstream)) {
        bad(where, `upstream ${JSON.stringify(upstream)} is not one of the upstreams (${[...upstreams.keys()].join(', ') || 'none defined'})`);
      }
      const traffic = routeTraffic(r as Record<string, unknown>, { path: `routes[${i}]`, where: `Config file ${configPath}`, baseDir: fileBase });
      routes.push({ prefix: normalisePrefix(prefix, where), kind: 'upstream', upstream, ...(traffic ? { traffic } : {}) });
    }
  }
  // --static on the command line replaces the file's mounts, as every repeatable flag does.
  if (file.static !== undefined && !values.static) {
    if (!Array.isArray(file.static)) bad('static (config file)', 'expected ["/PREFIX=DIR" | { prefix, dir }, ...]');
    for (const [i, entry] of (file.static as unknown[]).entries()) routes.push(staticRoute(entry, fileBase, 'static (config file)', { path: `static[${i}]`, file: `Config file ${configPath}` }));
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
