import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SettingError, validateConfigObject, type Settings } from '@nodicorn/server';

/** Looked for in the working directory when no --file is given. */
export const STACK_FILE_NAMES = ['nodicorn.stack.js', 'nodicorn.stack.mjs', 'nodicorn.stack.json'] as const;

/**
 * A stack file, as users write it: servers (each a nodicorn server, any setting by its camelCase
 * config key) and the proxy in front (its config keys; `routes[].upstream` names a server).
 */
export interface StackFile {
  name?: string;
  /** Where sockets, certificates, logs and the state file go; relative to the stack file. */
  stateDir?: string;
  servers: Record<string, Partial<Settings> & { app: string }>;
  proxy?: Record<string, unknown> & { routes?: { prefix: string; upstream: string }[]; hosts?: unknown };
}

export interface StackServer {
  readonly name: string;
  /** The server's config, with the stack's bind, control socket, name and chdir filled in. */
  readonly config: Partial<Settings>;
  readonly socket: string;
  readonly controlSocket: string;
}

export interface Stack {
  readonly name: string;
  readonly file: string;
  readonly baseDir: string;
  readonly stateDir: string;
  readonly servers: readonly StackServer[];
  /** The proxy's config, with one upstream per server (`unix:` its socket); null when there is none. */
  readonly proxy: Record<string, unknown> | null;
  /** The environment every part gets, so apps can find the stack (the demo's dashboard does). */
  readonly env: Record<string, string>;
}

export function findStackFile(cwd: string): string | null {
  for (const name of STACK_FILE_NAMES) if (existsSync(join(cwd, name))) return join(cwd, name);
  return null;
}

async function readStackModule(path: string): Promise<unknown> {
  if (path.endsWith('.json')) return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  const namespace = (await import(`${pathToFileURL(path).href}?load=${Date.now()}`)) as { default?: unknown };
  const exported = namespace.default ?? namespace;
  return typeof exported === 'function' ? (exported as () => unknown)() : exported;
}

const SERVER_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** Reads and checks a stack file; every problem is one line naming the file, the part and the fix. */
export async function loadStack(path: string): Promise<Stack> {
  const file = resolve(path);
  if (!existsSync(file)) throw new SettingError(`Stack file ${file} not found. Give --file PATH, or create ./nodicorn.stack.mjs.`);
  let raw: unknown;
  try {
    raw = await readStackModule(file);
  } catch (err) {
    throw new SettingError(`Stack file ${file} could not be loaded: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  const where = `Stack file ${file}`;
  if (typeof raw !== 'object' || raw === null) throw new SettingError(`${where}: expected it to export an object { servers, proxy }.`);
  const spec = raw as StackFile;
  const unknown = Object.keys(spec).find((k) => !['name', 'stateDir', 'servers', 'proxy'].includes(k));
  if (unknown) throw new SettingError(`${where}: unknown key "${unknown}"; a stack has name, stateDir, servers and proxy.`);
  if (typeof spec.servers !== 'object' || spec.servers === null || Object.keys(spec.servers).length === 0) {
    throw new SettingError(`${where}: "servers" must name at least one server, e.g. { web: { app: 'app.js:app' } }.`);
  }
  const baseDir = dirname(file);
  const name = spec.name ?? 'stack';
  if (!SERVER_NAME.test(name)) throw new SettingError(`${where}: name "${name}" must be lowercase letters, digits and dashes.`);
  const stateDir = resolve(baseDir, spec.stateDir ?? join('.nodicorn', name));
  const servers: StackServer[] = Object.entries(spec.servers).map(([serverName, settings]) => {
    if (!SERVER_NAME.test(serverName)) throw new SettingError(`${where}: server name "${serverName}" must be lowercase letters, digits and dashes.`);
    const { values } = validateConfigObject(settings, `${file} (server "${serverName}")`);
    if (!values.app) throw new SettingError(`${where}: server "${serverName}" has no "app", e.g. app: 'src/app.mjs:app'.`);
    const socket = join(stateDir, `${serverName}.sock`);
    const controlSocket = join(stateDir, `${serverName}.control.sock`);
    const chdir = values.chdir ? (isAbsolute(values.chdir) ? values.chdir : resolve(baseDir, values.chdir)) : baseDir;
    return {
      name: serverName,
      socket,
      controlSocket,
      config: { ...values, chdir, bind: [`unix:${socket}`], controlSocket, procName: `${name}-${serverName}` },
    };
  });
  let proxy: Record<string, unknown> | null = null;
  if (spec.proxy) {
    // A route goes to a server of this stack, or to an upstream of servers elsewhere (another host's
    // nodicorn over TCP: `upstreams: { api: ['10.0.0.5:8000'] }`).
    const remote = Object.keys((spec.proxy.upstreams as object | undefined) ?? {});
    const known = new Set([...servers.map((s) => s.name), ...remote]);
    const hosts = (spec.proxy.hosts ?? {}) as Record<string, { routes?: { prefix: string; upstream: string }[] } | undefined>;
    const allRoutes = [...(spec.proxy.routes ?? []), ...Object.values(hosts).flatMap((h) => (Array.isArray(h?.routes) ? h.routes : []))];
    for (const route of allRoutes) {
      if (!known.has(route.upstream)) {
        throw new SettingError(`${where}: proxy route ${route.prefix} goes to "${route.upstream}", which is neither a server here nor one of the proxy's upstreams (${[...known].join(', ')}).`);
      }
    }
    const upstreams = Object.fromEntries(servers.map((s) => [s.name, [`unix:${s.socket}`]]));
    proxy = { stateDir, ...spec.proxy, upstreams: { ...(spec.proxy.upstreams as object | undefined), ...upstreams } };
    // One server and no routes: it is what the proxy is in front of, so it gets `/`, as nginx's
    // single `location / { proxy_pass ... }`. With several servers the choice is the user's.
    if (spec.proxy.routes === undefined && servers.length === 1) proxy.routes = [{ prefix: '/', upstream: servers[0]!.name }];
    // The proxy's config is written into the state dir: paths in it must not depend on where it is read.
    const absolute = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
    const absoluteMounts = (list: unknown) =>
      Array.isArray(list)
        ? list.map((mount: unknown) => {
            if (typeof mount === 'string' && mount.includes('=')) {
              const eq = mount.indexOf('=');
              return `${mount.slice(0, eq)}=${absolute(mount.slice(eq + 1))}`;
            }
            if (typeof mount === 'object' && mount !== null && typeof (mount as { dir?: unknown }).dir === 'string') {
              return { ...mount, dir: absolute((mount as { dir: string }).dir) };
            }
            return mount;
          })
        : list;
    // A route's htpasswd file (auth: 'users' or { file: 'users' }) likewise.
    const absoluteAuth = (list: unknown) =>
      Array.isArray(list)
        ? list.map((route: unknown) => {
            const auth = (route as { auth?: unknown } | null)?.auth;
            if (typeof auth === 'string') return { ...(route as object), auth: absolute(auth) };
            if (typeof auth === 'object' && auth !== null && typeof (auth as { file?: unknown }).file === 'string') return { ...(route as object), auth: { ...auth, file: absolute((auth as { file: string }).file) } };
            return route;
          })
        : list;
    if (Array.isArray(proxy.static)) proxy.static = absoluteMounts(proxy.static);
    if (Array.isArray(proxy.routes)) proxy.routes = absoluteAuth(proxy.routes) as typeof proxy.routes;
    // Host blocks hold mounts and certificates of their own, resolved the same way.
    if (spec.proxy.hosts && typeof spec.proxy.hosts === 'object') {
      proxy.hosts = Object.fromEntries(
        Object.entries(spec.proxy.hosts as Record<string, unknown>).map(([name, block]) => {
          if (typeof block !== 'object' || block === null) return [name, block];
          const b = { ...(block as Record<string, unknown>) };
          if (b.static !== undefined) b.static = absoluteMounts(b.static);
          if (b.routes !== undefined) b.routes = absoluteAuth(b.routes);
          for (const key of ['tlsCert', 'tlsKey']) if (typeof b[key] === 'string') b[key] = absolute(b[key] as string);
          return [name, b];
        }),
      );
    }
    for (const key of ['tlsCert', 'tlsKey', 'tlsCaCerts', 'stateDir']) if (typeof proxy[key] === 'string') proxy[key] = absolute(proxy[key] as string);
  }
  return { name, file, baseDir, stateDir, servers, proxy, env: { NODICORN_STACK_NAME: name, NODICORN_STACK_DIR: stateDir } };
}
