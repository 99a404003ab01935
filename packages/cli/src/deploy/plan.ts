import { isIP } from 'node:net';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PROXY_SETTINGS, ProxySettingError, routeTraffic, upstreamSpec, type ProxySettingKey, type ProxySettings, type RouteTraffic, type UpstreamSpec } from '@nodicorn/proxy';
import type { Settings } from '@nodicorn/server';
import type { Stack } from '../stack/stack-file.js';
import { DeployError, type DeployOptions } from './options.js';

/**
 * The stack as it will run on the target machine: every path moved from where the stack file is now
 * to where it is deployed (`--prefix`), every socket into `--run-dir`. Both renderers read only this,
 * so nginx and systemd always agree on the socket paths.
 */
export interface DeployPlan {
  readonly name: string;
  readonly stackFile: string;
  readonly prefix: string;
  readonly runDir: string;
  readonly servers: readonly PlannedServer[];
  readonly proxy: PlannedProxy | null;
}

export interface PlannedServer {
  readonly name: string;
  /** `<stack>-<server>`: the systemd unit base name and the nginx upstream name. */
  readonly unit: string;
  readonly socket: string;
  readonly controlSocket: string;
  /** The server's settings with paths relocated; `bind` is its socket in the run dir. */
  readonly config: Partial<Settings>;
}

export interface Listener {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

export interface PlannedProxy {
  readonly listeners: readonly Listener[];
  readonly serverNames: readonly string[];
  /** Each route's traffic control (limits, allow/deny, auth) as the proxy reads it, auth files relocated; null for none. */
  readonly routes: readonly PlannedRoute[];
  /** Upstreams of servers on other hosts (`upstreams` in the stack's proxy), by name, as the proxy reads them. */
  readonly remotes: readonly { readonly name: string; readonly upstream: UpstreamSpec }[];
  /** Passive health, as nginx's `max_fails` / `fail_timeout` and the proxy's `--max-fails` / `--fail-timeout`. */
  readonly maxFails: number;
  readonly failTimeout: number;
  readonly statics: readonly { readonly prefix: string; readonly dir: string }[];
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly hsts: boolean;
  /** client_max_body_size in bytes; 0 means unlimited. */
  readonly maxBody: number;
  readonly connectTimeout: number;
  readonly readTimeout: number;
  /** On-the-fly compression (the proxy's --gzip on), or null when off. */
  readonly gzip: PlannedGzip | null;
  /** Virtual hosts, each its own server block; the top level is the default unless one is marked. */
  readonly hosts: readonly PlannedHost[];
  readonly tls: PlannedTls;
  /** The stack's proxy config, relocated, for `nodicorn proxy -c`. */
  readonly config: Record<string, unknown>;
  /** False when the stack has no proxy and this one (one server at /) stands in for nginx only. */
  readonly fromStack: boolean;
}

/** A `hosts` block: an nginx `server {}` of its own, matched by `server_name`. */
export interface PlannedHost {
  /** nginx server_name syntax already: exact names, `*.suffix`, `.suffix`. */
  readonly names: readonly string[];
  readonly routes: readonly PlannedRoute[];
  readonly statics: readonly { readonly prefix: string; readonly dir: string }[];
  /** Its own certificate, or null for the top-level one. */
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  /** nginx default_server: takes every name no server_name covers. */
  readonly isDefault: boolean;
}

/** The listeners' TLS options, by the proxy's own setting types (nginx ssl_protocols, ssl_ciphers, ssl_verify_client). */
export interface PlannedTls {
  readonly minVersion: ProxySettings['tlsMinVersion'];
  readonly ciphers: string | null;
  readonly caCerts: string | null;
  readonly verifyClient: ProxySettings['tlsVerifyClient'];
}

export interface PlannedGzip {
  /** Media types, `type/*` and `*` included, as the proxy takes them. */
  readonly types: readonly string[];
  readonly minLength: number;
  readonly level: number;
}

/** Reads a proxy setting from the stack by the proxy's own setting type, so both sides agree on every value. */
function settingReader(raw: Record<string, unknown>, where: string) {
  return <K extends ProxySettingKey>(key: K): ProxySettings[K] => {
    const spec = PROXY_SETTINGS[key];
    if (raw[key] === undefined) return spec.default as ProxySettings[K];
    try {
      return spec.type.from(raw[key]) as ProxySettings[K];
    } catch (err) {
      throw new DeployError('ERR_DEPLOY_STACK', `${where} ${key}: ${(err as Error).message}.`);
    }
  };
}

/** The stack's gzip settings. */
function gzipPlan(raw: Record<string, unknown>, where: string): PlannedGzip | null {
  const read = settingReader(raw, where);
  if (!read('gzip')) return null;
  return { types: read('gzipTypes').flatMap((t) => t.split(/[\s,]+/)).filter(Boolean), minLength: read('gzipMinLength'), level: read('gzipCompLevel') };
}

const PROXY_DEFAULT_LISTEN = 'http://127.0.0.1:8080';

export function parseListener(text: string, where: string): Listener {
  const m = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[^/:\s[\]]+):(\d{1,5})\/?$/.exec(text.trim());
  if (!m || Number(m[3]) > 65535) throw new DeployError('ERR_DEPLOY_USAGE', `${where}: expected http://HOST:PORT or https://HOST:PORT, got "${text}".`);
  const host = m[2]!.replace(/^\[|\]$/g, '');
  if (m[2]!.startsWith('[') && isIP(host) !== 6) throw new DeployError('ERR_DEPLOY_USAGE', `${where}: "${host}" is not an IPv6 address.`);
  return { scheme: m[1] as 'http' | 'https', host, port: Number(m[3]) };
}

function inside(path: string, dir: string): string | null {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && rel.split(sep)[0] !== '..') ? rel : null;
}

function asList(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function staticEntry(entry: unknown, baseDir: string, where: string): { prefix: string; dir: string } {
  let prefix: unknown;
  let dir: unknown;
  if (typeof entry === 'string' && entry.includes('=')) [prefix, dir] = [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)];
  else if (entry && typeof entry === 'object') ({ prefix, dir } = entry as { prefix?: unknown; dir?: unknown });
  if (typeof prefix !== 'string' || !prefix.startsWith('/') || typeof dir !== 'string' || dir === '') {
    throw new DeployError('ERR_DEPLOY_STACK', `${where}: static mount ${JSON.stringify(entry)} is not "/PREFIX=DIR" or { prefix, dir }.`);
  }
  return { prefix: prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix, dir: resolve(baseDir, dir) };
}

/** A stack route as deploy plans it: where it goes, its traffic control, and the object the proxy's config gets. */
export interface PlannedRoute {
  readonly prefix: string;
  readonly server: string;
  readonly traffic: RouteTraffic | null;
  /** The route for `nodicorn proxy -c`: its own keys, the htpasswd path relocated. */
  readonly config: Record<string, unknown>;
}

function routeList(value: unknown, path: string, baseDir: string, relocate: (path: string) => string, where: string): PlannedRoute[] {
  return (asList(value) as Record<string, unknown>[]).map((r, i) => {
    const { prefix: p, upstream, auth: _auth, ...rest } = r as { prefix: string; upstream: string; auth?: unknown };
    const prefix = p.length > 1 ? p.replace(/\/+$/, '') : p;
    const traffic = trafficOf(r, `${path}[${i}]`, baseDir, relocate, where);
    const auth = traffic?.auth;
    return { prefix, server: upstream, traffic, config: { ...rest, prefix, upstream, ...(auth ? { auth: { file: auth.file, realm: auth.realm, forward: auth.forward } } : {}) } };
  });
}

function number(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Sizes as the proxy takes them: a number of bytes or "10m", "512k", "1g". */
function bytes(value: unknown, fallback: number): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return fallback;
  const m = /^(\d+)([kmg]?)b?$/i.exec(value.trim());
  if (!m) return fallback;
  return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[m[2]!.toLowerCase()]!;
}

/**
 * A route's traffic keys read by the proxy's own parser, so deploy refuses what the proxy would; the
 * htpasswd file is checked where it is now and then moved with the prefix.
 */
function trafficOf(route: Record<string, unknown>, path: string, baseDir: string, relocate: (path: string) => string, where: string): RouteTraffic | null {
  let traffic: RouteTraffic | null;
  try {
    traffic = routeTraffic(route, { path, where, baseDir });
  } catch (err) {
    if (err instanceof ProxySettingError) throw new DeployError('ERR_DEPLOY_STACK', err.message);
    throw err;
  }
  return traffic?.auth ? { ...traffic, auth: { ...traffic.auth, file: relocate(traffic.auth.file) } } : traffic;
}

export function planDeploy(stack: Stack, options: DeployOptions): DeployPlan {
  const prefix = options.prefix ?? stack.baseDir;
  const runDir = options.runDir ?? `/run/${stack.name}`;
  // Sockets and other state move into the run dir; the app's files move with the prefix.
  const relocate = (path: string): string => {
    const abs = resolve(stack.baseDir, path);
    const inState = inside(abs, stack.stateDir);
    if (inState !== null) return join(runDir, inState);
    const inBase = inside(abs, stack.baseDir);
    return inBase !== null ? join(prefix, inBase) : abs;
  };
  const relocateFile = (path: string | null | undefined) => (path && path !== '-' ? relocate(path) : path);

  const servers = stack.servers.map((server): PlannedServer => {
    const socket = join(runDir, `${server.name}.sock`);
    // The control socket lives in the service's own RuntimeDirectory: the master (not root) creates it,
    // and it goes away with the master, while the listening socket belongs to the .socket unit.
    const controlSocket = `/run/${stack.name}-${server.name}/control.sock`;
    const config: Partial<Settings> = { ...server.config, bind: [`unix:${socket}`], controlSocket };
    if (config.chdir) config.chdir = relocate(config.chdir);
    if (config.errorlog !== undefined) config.errorlog = relocateFile(config.errorlog)!;
    if (config.accesslog !== undefined) config.accesslog = relocateFile(config.accesslog) ?? null;
    if (config.pidfile) config.pidfile = relocate(config.pidfile);
    if (config.reloadExtraFiles) config.reloadExtraFiles = config.reloadExtraFiles.map(relocate);
    return { name: server.name, unit: `${stack.name}-${server.name}`, socket, controlSocket, config };
  });

  let proxy: PlannedProxy | null = null;
  // A one-server stack without a proxy still gets an nginx in front: everything goes to that server.
  const raw = stack.proxy ?? (servers.length === 1 ? { routes: [{ prefix: '/', upstream: servers[0]!.name }] } : null);
  if (raw) {
    const where = `Stack file ${stack.file}, proxy`;
    const listeners = (options.listen.length > 0 ? options.listen : asList(raw.listen ?? PROXY_DEFAULT_LISTEN)).map((l) =>
      parseListener(String(l), options.listen.length > 0 ? '--listen' : `${where} listen`),
    );
    const routes = routeList(raw.routes, 'routes', stack.baseDir, relocate, where);
    const statics = asList(raw.static).map((e) => staticEntry(e, stack.baseDir, where)).map((s) => ({ prefix: s.prefix, dir: relocate(s.dir) }));
    const serverNames = options.serverNames.length > 0 ? options.serverNames : (asList(raw.serverName) as string[]);
    const tlsCert = options.tlsCert ?? (typeof raw.tlsCert === 'string' ? relocate(raw.tlsCert) : null);
    const tlsKey = options.tlsKey ?? (typeof raw.tlsKey === 'string' ? relocate(raw.tlsKey) : null);
    const hosts = Object.entries((raw.hosts as Record<string, Record<string, unknown>> | undefined) ?? {}).map(([key, block]): PlannedHost => ({
      names: key.split(/\s+/).filter(Boolean),
      routes: routeList(block.routes, `hosts.${key}.routes`, stack.baseDir, relocate, where),
      statics: asList(block.static).map((e) => staticEntry(e, stack.baseDir, `${where} hosts.${key}`)).map((s) => ({ prefix: s.prefix, dir: relocate(s.dir) })),
      tlsCert: typeof block.tlsCert === 'string' ? relocate(block.tlsCert) : null,
      tlsKey: typeof block.tlsKey === 'string' ? relocate(block.tlsKey) : null,
      isDefault: block.default === true,
    }));
    const read = settingReader(raw, where);
    const tls: PlannedTls = {
      minVersion: read('tlsMinVersion'),
      ciphers: read('tlsCiphers'),
      caCerts: typeof raw.tlsCaCerts === 'string' ? relocate(raw.tlsCaCerts) : null,
      verifyClient: read('tlsVerifyClient'),
    };
    const socketOf = new Map(servers.map((s) => [s.name, s.socket]));
    const upstreams = Object.fromEntries(servers.map((s) => [s.name, [`unix:${s.socket}`]]));
    const remotes = Object.entries((raw.upstreams as Record<string, unknown> | undefined) ?? {})
      .filter(([name]) => !socketOf.has(name))
      .map(([name, value]) => {
        try {
          return { name, upstream: upstreamSpec(value, `proxy.upstreams.${name}`, stack.file) };
        } catch (err) {
          if (err instanceof ProxySettingError) throw new DeployError('ERR_DEPLOY_STACK', err.message);
          throw err;
        }
      });
    const config: Record<string, unknown> = {
      ...raw,
      listen: listeners.map((l) => `${l.scheme}://${isIP(l.host) === 6 ? `[${l.host}]` : l.host}:${l.port}`),
      upstreams: { ...(raw.upstreams as object | undefined), ...upstreams },
      routes: routes.map((r) => r.config),
      static: statics.map((s) => ({ prefix: s.prefix, dir: s.dir })),
      stateDir: `/var/lib/${stack.name}`,
    };
    if (serverNames.length > 0) config.serverName = serverNames;
    if (tlsCert) Object.assign(config, { tlsCert, tlsKey });
    if (tls.caCerts) config.tlsCaCerts = tls.caCerts;
    if (hosts.length > 0) {
      config.hosts = Object.fromEntries(
        hosts.map((h) => [
          h.names.join(' '),
          {
            ...(h.routes.length ? { routes: h.routes.map((r) => r.config) } : {}),
            ...(h.statics.length ? { static: h.statics } : {}),
            ...(h.tlsCert ? { tlsCert: h.tlsCert, tlsKey: h.tlsKey } : {}),
            ...(h.isDefault ? { default: true } : {}),
          },
        ]),
      );
    }
    if (config.static && (config.static as unknown[]).length === 0) delete config.static;
    const remoteNames = new Set(remotes.map((r) => r.name));
    for (const r of [...routes, ...hosts.flatMap((h) => h.routes)]) if (!socketOf.has(r.server) && !remoteNames.has(r.server)) throw new DeployError('ERR_DEPLOY_STACK', `${where}: route ${r.prefix} goes to "${r.server}", which is neither a server of the stack nor one of its proxy's upstreams.`);
    proxy = {
      listeners,
      serverNames,
      routes,
      remotes,
      maxFails: number(raw.maxFails, 1),
      failTimeout: number(raw.failTimeout, 10),
      statics,
      tlsCert,
      tlsKey,
      hsts: raw.hsts === true,
      maxBody: bytes(raw.maxBody, 1024 * 1024),
      connectTimeout: number(raw.connectTimeout, 10),
      readTimeout: number(raw.upstreamTimeout, 60),
      gzip: gzipPlan(raw, where),
      hosts,
      tls,
      config,
      fromStack: stack.proxy !== null,
    };
  }
  return { name: stack.name, stackFile: stack.file, prefix, runDir, servers, proxy };
}
