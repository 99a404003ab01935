import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defaultSettings, layerSettings, parseArgs, readConfigFile, readConfigObject, validateSettings } from '@nodicorn/settings';
import { ProxySettingError } from '../errors.js';
import { routeTraffic, TRAFFIC_ROUTE_KEYS, type RouteTraffic } from '../traffic/route-config.js';
import { parseListen, type ListenSpec } from './addresses.js';
import type { ProxySettings } from './definitions.js';
import { ServerNames, serverNameProblem } from '../vhosts/server-names.js';
import { PROXY_COMMAND_FLAGS, PROXY_SCHEMA } from './schema.js';
import { upstreamSpec, type UpstreamSpec } from './upstreams.js';
import { refuseUnknownKeys, type KeySet } from './strict-keys.js';

/** The keys of a route object in a config file. */
export const ROUTE_KEYS: KeySet = {
  name: 'a route',
  keys: ['prefix', 'upstream', ...TRAFFIC_ROUTE_KEYS],
  pending: { cache: 'the proxy cache is planned in issue #16 and not built; a route with cache would be served uncached' },
};
const STATIC_MOUNT_KEYS: KeySet = { name: 'a static mount', keys: ['prefix', 'dir'] };

export { PROXY_COMMAND_FLAGS };

/** A path prefix and what serves it; the longest matching prefix wins, as an nginx prefix location. */
export type Route =
  | { readonly prefix: string; readonly kind: 'upstream'; readonly upstream: string; readonly traffic?: RouteTraffic }
  | { readonly prefix: string; readonly kind: 'static'; readonly dir: string };

/** A `hosts` block of the config file: nginx's `server { server_name ...; }`. */
export interface VirtualHost {
  /** The block's key split on spaces, lower case: exact names, `*.suffix` or `.suffix`. */
  readonly names: readonly string[];
  /** Longest prefix first. */
  readonly routes: readonly Route[];
  /** Absolute paths; null uses the top-level certificate. */
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
}

/** Everything the proxy runs from, checked and normalised; rebuilt whole on SIGHUP. */
export interface ProxyConfig {
  readonly settings: ProxySettings;
  readonly listeners: readonly ListenSpec[];
  readonly upstreams: ReadonlyMap<string, UpstreamSpec>;
  /** Longest prefix first. */
  readonly routes: readonly Route[];
  /** Virtual hosts by Host/SNI; the top-level routes are the server for every other name. */
  readonly hosts: readonly VirtualHost[];
  /**
   * Which server takes a Host no name covers (nginx default_server): the index of a host block
   * marked `default: true` (or the first block when the top level serves nothing), -1 for the top level.
   */
  readonly defaultHost: number;
  readonly cwd: string;
}

/** Config-file keys with more shape than a flag: `static` may hold { prefix, dir } objects. */
const STRUCTURE_KEYS = new Map(['upstreams', 'routes', 'static', 'hosts'].map((key) => [key, key]));
/** What a `hosts` block may hold. */
const HOST_KEYS: KeySet = { name: 'a host block', keys: ['routes', 'static', 'tlsCert', 'tlsKey', 'default'] };

/** What a proxy config file may hold besides plain settings. */
interface ConfigFileShape {
  readonly upstreams?: unknown;
  readonly routes?: unknown;
  readonly static?: unknown;
  readonly hosts?: unknown;
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

/** Where a list of routes or mounts sits in a config file: its key path (`hosts.a.routes`), the file, and the file's directory. */
interface ListPlace {
  readonly path: string;
  readonly file: string;
  readonly base: string;
}

function upstreamRoutes(list: unknown, upstreams: ReadonlyMap<string, unknown>, place: ListPlace): Route[] {
  const where = `${place.path} (config file)`;
  if (list === undefined) return [];
  if (!Array.isArray(list)) bad(where, 'expected [{ prefix, upstream }, ...]');
  return (list as unknown[]).map((r, i) => {
    const path = `${place.path}[${i}]`;
    const at = `${path} (config file)`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) bad(at, `expected { prefix, upstream }, got ${JSON.stringify(r)}`);
    refuseUnknownKeys(r, ROUTE_KEYS, path, `Config file ${place.file}`);
    const { prefix, upstream } = r as { prefix?: unknown; upstream?: unknown };
    if (typeof upstream !== 'string' || !upstreams.has(upstream)) {
      bad(at, `upstream ${JSON.stringify(upstream)} is not one of the upstreams (${[...upstreams.keys()].join(', ') || 'none defined'})`);
    }
    const traffic = routeTraffic(r as Record<string, unknown>, { path, where: `Config file ${place.file}`, baseDir: place.base });
    return { prefix: normalisePrefix(prefix, at), kind: 'upstream', upstream, ...(traffic ? { traffic } : {}) };
  });
}

function staticRoutes(list: unknown, place: ListPlace): Route[] {
  const where = `${place.path} (config file)`;
  if (list === undefined) return [];
  if (!Array.isArray(list)) bad(where, 'expected ["/PREFIX=DIR" | { prefix, dir }, ...]');
  return (list as unknown[]).map((entry, i) => staticRoute(entry, place.base, where, { path: `${place.path}[${i}]`, file: `Config file ${place.file}` }));
}

/** One server's routes, each prefix once, longest first. */
function sortedRoutes(routes: Route[], where: string): Route[] {
  const seen = new Set<string>();
  for (const r of routes) {
    if (seen.has(r.prefix)) bad(where, `prefix ${r.prefix} is mapped twice; keep one`);
    seen.add(r.prefix);
  }
  return routes.sort((a, b) => b.prefix.length - a.prefix.length);
}

/** The `hosts` blocks: `{ "shop.example *.shop.example": { routes, static, tlsCert, tlsKey, default } }`. */
function virtualHosts(value: unknown, upstreams: ReadonlyMap<string, unknown>, base: string, file: string, topLevelServes: boolean): { hosts: VirtualHost[]; defaultHost: number } {
  if (value === undefined) return { hosts: [], defaultHost: -1 };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('hosts (config file)', 'expected { "NAME ...": { routes, static, tlsCert, tlsKey } }');
  const hosts: VirtualHost[] = [];
  let defaultHost = -1;
  for (const [key, raw] of Object.entries(value)) {
    const where = `hosts.${key} (config file)`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(where, 'expected { routes, static, tlsCert, tlsKey, default }');
    refuseUnknownKeys(raw, HOST_KEYS, `hosts.${key}`, `Config file ${file}`);
    const block = raw as { routes?: unknown; static?: unknown; tlsCert?: unknown; tlsKey?: unknown; default?: unknown };
    const names = key.toLowerCase().split(/\s+/).filter(Boolean);
    if (names.length === 0) bad(where, 'the key must be one or more server names');
    for (const n of names) {
      const problem = serverNameProblem(n);
      if (problem) bad(where, `server name "${n}" ${problem}`);
    }
    const routes = [...upstreamRoutes(block.routes, upstreams, { path: `hosts.${key}.routes`, file, base }), ...staticRoutes(block.static, { path: `hosts.${key}.static`, file, base })];
    if (routes.length === 0) bad(where, 'serves nothing; give it routes or static');
    for (const k of ['tlsCert', 'tlsKey'] as const) if (block[k] !== undefined && typeof block[k] !== 'string') bad(`hosts.${key}.${k} (config file)`, 'expected a file path');
    if ((block.tlsCert === undefined) !== (block.tlsKey === undefined)) bad(`hosts.${key}.tlsCert/tlsKey (config file)`, 'give both the certificate and its key, or neither to use the top-level one');
    if (block.default !== undefined && typeof block.default !== 'boolean') bad(`hosts.${key}.default (config file)`, 'expected true or false');
    if (block.default === true) {
      if (defaultHost >= 0) bad(`hosts.${key}.default (config file)`, `hosts.${hosts[defaultHost]!.names.join(' ')} is already the default server; mark one`);
      defaultHost = hosts.length;
    }
    hosts.push({
      names,
      routes: sortedRoutes(routes, `hosts.${key}.routes`),
      tlsCert: typeof block.tlsCert === 'string' ? resolve(base, block.tlsCert) : null,
      tlsKey: typeof block.tlsKey === 'string' ? resolve(base, block.tlsKey) : null,
    });
  }
  // nginx: without default_server, the first server block of the listener takes unknown names.
  if (defaultHost < 0 && !topLevelServes && hosts.length > 0) defaultHost = 0;
  return { hosts, defaultHost };
}

/** A name in two host blocks would make routing depend on order. */
function checkServerNames(hosts: readonly VirtualHost[]): void {
  const names = new ServerNames<string>();
  for (const h of hosts) {
    const label = `hosts.${h.names.join(' ')}`;
    for (const n of h.names) {
      const clash = names.add(n, label);
      if (clash) bad(label, `server name "${n}" is also in ${clash}; give each name to one server`);
    }
  }
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
  const configPath = values.config ? resolve(cwd, values.config) : null;
  if (configPath) {
    const path = configPath;
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
  if (settings.tlsVerifyClient !== 'off' && settings.tlsCaCerts === null) bad('--tls-verify-client', `${settings.tlsVerifyClient} needs --tls-ca-certs FILE, the CA certificates client certificates are checked against`);

  const upstreams = new Map<string, UpstreamSpec>();
  if (file.upstreams !== undefined) {
    if (typeof file.upstreams !== 'object' || file.upstreams === null || Array.isArray(file.upstreams)) bad('upstreams (config file)', 'expected { NAME: ["unix:PATH" | "HOST:PORT", ...] | { servers, balance, healthCheck, sticky } }');
    for (const [name, spec] of Object.entries(file.upstreams)) upstreams.set(name, upstreamSpec(spec, `upstreams.${name}`, configPath!));
  }
  if (values.upstream?.length) upstreams.set('default', upstreamSpec(values.upstream, '--upstream'));
  else if (settings.upstream.length && !upstreams.has('default')) upstreams.set('default', upstreamSpec(settings.upstream, 'upstream', configPath ?? ''));

  const place = { file: configPath ?? '', base: fileBase };
  const routes: Route[] = upstreamRoutes(file.routes, upstreams, { ...place, path: 'routes' });
  // --static on the command line replaces the file's mounts, as every repeatable flag does.
  if (!values.static) routes.push(...staticRoutes(file.static, { ...place, path: 'static' }));
  for (const entry of values.static ?? []) routes.push(staticRoute(entry, cwd, '--static'));
  if (upstreams.has('default') && !routes.some((r) => r.prefix === '/')) routes.push({ prefix: '/', kind: 'upstream', upstream: 'default' });
  const { hosts, defaultHost } = virtualHosts(file.hosts, upstreams, fileBase, configPath ?? '', routes.length > 0);
  if (routes.length === 0 && hosts.length === 0) bad('--upstream/--static', 'nothing to serve; give --upstream unix:PATH|HOST:PORT, --static /PREFIX=DIR or a --config with routes');
  checkServerNames(hosts);
  return { settings, listeners, upstreams, routes: sortedRoutes(routes, 'routes'), hosts, defaultHost, cwd, flags };
}
