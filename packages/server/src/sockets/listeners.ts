import { fstatSync, lstatSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { basename, dirname, join } from 'node:path';
import { constants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { getSystemErrorName } from 'node:util';
import { BindError, NodicornError } from '../errors.js';
import type { AcceptMode } from './accept-mode.js';
import { formatBind, type BindSpec } from './bind-spec.js';
import { listenNow } from './listen-now.js';
import type { ResolvedBind } from './resolve-host.js';

/**
 * A socket the master holds for its workers. Depending on the accept mode it is a descriptor workers
 * inherit and accept on, a server the master accepts on itself, or (reuse-port) just the address each
 * worker binds on its own.
 */
export interface Listener {
  readonly spec: BindSpec;
  /** The descriptor workers inherit (accept mode `workers`). */
  readonly fd?: number;
  /** The server the master accepts on (accept mode `master`); connections arrive paused. */
  readonly server?: net.Server;
  /** The address each worker binds with SO_REUSEPORT (accept mode `reuse-port`). */
  readonly reusePort?: { readonly host: string; readonly port: number };
  /** For logs and banners, with the real port when bound to port 0. */
  readonly label: string;
  /** The TCP port actually bound (port 0 resolves to an ephemeral one). */
  readonly port?: number;
  close(): void;
  /**
   * The start of a stop: refuse new connections at once (a Unix path is unlinked now) but take what
   * already waits in the backlog for a moment, then close. Resolves once closed.
   */
  stopAccepting?(): Promise<void>;
}

/** The listen backlog when none is given: the default of the backlog setting. */
const DEFAULT_BACKLOG = 2048;

/** How long a listener that is stopping still accepts what waits in its backlog. */
export const BACKLOG_DRAIN_MS = 200;

interface ServerHandle {
  readonly fd: number;
  close(): void;
  getsockname?(out: { port?: number; address?: string }): number;
}

type CreateServerHandle = (address: string | null, port: number, addressType: number, fd?: number, flags?: number) => ServerHandle | number;

/**
 * Node's own `cluster` binds shared sockets with `net._createServerHandle`: it binds without
 * `listen()`ing in the master, so the master never accepts a connection itself (Gunicorn's model,
 * where only workers call accept). There is no public API with that property, so we use the same
 * function cluster uses and check for it at start.
 */
function serverHandleFactory(): CreateServerHandle {
  const factory = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (typeof factory !== 'function') {
    throw new NodicornError('ERR_FEATURE', 'This Node.js has no net._createServerHandle; nodicorn needs Node >= 20.19.');
  }
  return factory;
}

function bindError(spec: BindSpec, code: string): BindError {
  const where = formatBind(spec);
  const hint =
    code === 'EADDRINUSE' ? 'another process is listening there; stop it or choose another --bind'
      : code === 'EACCES' ? 'permission denied; ports below 1024 need root, or choose another --bind'
        : code === 'EADDRNOTAVAIL' ? 'no local interface has that address'
          : 'check the address';
  return new BindError(code, `Cannot bind ${where}: ${code} (${hint}).`);
}

/** Is something accepting on this Unix socket path right now? */
function unixSocketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function prepareUnixPath(path: string): Promise<'free' | 'in-use'> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return 'free';
  }
  if (!stat.isSocket()) {
    throw new NodicornError('ERR_BIND_NOT_SOCKET', `Cannot bind unix:${path}: the path exists and is not a socket; remove it or choose another path.`);
  }
  if (await unixSocketAlive(path)) return 'in-use';
  unlinkSync(path); // a stale socket left by a process that died without cleaning up
  return 'free';
}

/**
 * Where a Unix socket is bound before it listens: a sibling of its path, renamed into place once it
 * listens, so the path never names a socket that refuses connections. Undefined when the sibling's
 * name would be too long for a socket address; then the socket is bound at its path directly.
 */
function stagingPath(path: string): string | undefined {
  const staged = join(dirname(path), `.${basename(path)}.${process.pid}.bind`);
  return Buffer.byteLength(staged) <= 107 ? staged : undefined;
}

function bindOnce(spec: BindSpec, umask: number, at?: string): ServerHandle | string {
  const create = serverHandleFactory();
  let result: ServerHandle | number;
  if (spec.kind === 'unix') {
    const previous = process.umask(umask);
    try {
      result = create(at ?? spec.path, -1, -1);
    } finally {
      process.umask(previous);
    }
  } else if (spec.kind === 'tcp') {
    result = create(spec.host, spec.port, net.isIP(spec.host) || 4);
    // libuv defers a bind's EADDRINUSE to listen() (uv__tcp_bind's delayed_error), and the master never
    // listens: a socket that failed to bind is left unbound, and a worker's listen() would then pick a
    // random port. An unbound socket reports port 0, so that is how a failed bind shows here.
    if (typeof result !== 'number') {
      const address: { port?: number } = {};
      result.getsockname?.(address);
      if (!address.port) {
        result.close();
        result = -constants.errno.EADDRINUSE;
      }
    }
  } else {
    throw new Error('fd binds are inherited, not bound');
  }
  return typeof result === 'number' ? getSystemErrorName(result) : result;
}

export interface BindOptions {
  readonly umask: number;
  readonly mode?: AcceptMode;
  readonly backlog?: number;
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  readonly log?: (message: string) => void;
}

function inheritedListener(spec: BindSpec & { kind: 'fd' }, backlog: number): Listener {
  let isSocket = false;
  try {
    isSocket = fstatSync(spec.fd).isSocket();
  } catch {
    // not an open descriptor
  }
  if (!isSocket) {
    throw new NodicornError('ERR_BIND_FAILED', `Cannot use fd://${spec.fd}: it is not an open socket inherited by this process.`);
  }
  // An inherited socket may be bound only (a supervisor that leaves listen() to us): listen now too.
  listenNow([spec.fd], backlog);
  return { spec, fd: spec.fd, label: formatBind(spec), close: () => undefined };
}

function removeSocketFile(spec: BindSpec): void {
  if (spec.kind !== 'unix') return;
  try {
    unlinkSync(spec.path);
  } catch {
    // already gone
  }
}

/** A listening server in the master, for the modes where the master accepts and deals connections out. */
async function acceptingListener(spec: BindSpec, options: BindOptions): Promise<Listener | string> {
  const server = net.createServer({ pauseOnConnect: true });
  const backlog = options.backlog ?? DEFAULT_BACKLOG;
  const previous = spec.kind === 'unix' ? process.umask(options.umask) : undefined;
  const listening = new Promise<string | null>((resolve) => {
    server.once('listening', () => resolve(null));
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'EINVAL'));
  });
  try {
    if (spec.kind === 'unix') server.listen({ path: spec.path, backlog });
    else if (spec.kind === 'tcp') server.listen({ host: spec.host, port: spec.port, backlog });
    else server.listen({ fd: spec.fd, backlog });
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
  const failed = await listening;
  if (failed) return failed;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : undefined;
  return {
    spec,
    server,
    label: formatBind(spec, port),
    ...(port !== undefined ? { port } : {}),
    close() {
      server.close();
      removeSocketFile(spec);
    },
    stopAccepting() {
      removeSocketFile(spec);
      return new Promise<void>((resolve) => setTimeout(() => {
        server.close();
        resolve();
      }, BACKLOG_DRAIN_MS));
    },
  };
}

/**
 * A socket bound in the master and put into LISTEN state, whose descriptor workers inherit and accept
 * on; the master itself never accepts (see listenNow).
 */
function sharedListener(spec: BindSpec, options: BindOptions): Listener | string {
  const staged = spec.kind === 'unix' ? stagingPath(spec.path) : undefined;
  if (staged) rmSync(staged, { force: true });
  const handle = bindOnce(spec, options.umask, staged);
  if (typeof handle === 'string') return handle;
  try {
    listenNow([handle.fd], options.backlog ?? DEFAULT_BACKLOG);
    if (staged && spec.kind === 'unix') renameSync(staged, spec.path);
  } catch (err) {
    handle.close();
    if (staged) rmSync(staged, { force: true });
    throw err;
  }
  const address: { port?: number } = {};
  handle.getsockname?.(address);
  const port = spec.kind === 'tcp' ? address.port ?? spec.port : undefined;
  return {
    spec,
    fd: handle.fd,
    label: formatBind(spec, port),
    ...(port !== undefined ? { port } : {}),
    close() {
      handle.close();
      removeSocketFile(spec);
    },
  };
}

/** Binds one --bind, retrying a few times as Gunicorn does when the address is still in use. */
export async function bindListener(spec: BindSpec, options: BindOptions): Promise<Listener> {
  if (options.mode === 'reuse-port' && spec.kind === 'tcp') {
    return { spec, reusePort: { host: spec.host, port: spec.port }, label: formatBind(spec), port: spec.port, close: () => undefined };
  }
  if (spec.kind === 'fd' && options.mode !== 'master') return inheritedListener(spec, options.backlog ?? DEFAULT_BACKLOG);
  const attempts = options.attempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 500;
  let lastCode = 'EADDRINUSE';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const state = spec.kind === 'unix' ? await prepareUnixPath(spec.path) : 'free';
    const result = state === 'in-use' ? 'EADDRINUSE' : options.mode === 'master' ? await acceptingListener(spec, options) : sharedListener(spec, options);
    if (typeof result !== 'string') return result;
    lastCode = result;
    if (result !== 'EADDRINUSE' || attempt === attempts) break;
    options.log?.(`Connection in use: ${formatBind(spec)}; retrying in ${retryDelayMs} ms`);
    await delay(retryDelayMs);
  }
  throw bindError(spec, lastCode);
}

/** Addresses of a name that this machine cannot have (no IPv6 in a container, say): skipped, not fatal. */
const UNAVAILABLE = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

/**
 * Binds every listener or none: on a failure, the ones already bound are closed again. An address a
 * host name resolved to may be skipped when this machine cannot bind it, as long as one address of
 * that name binds: `localhost` lists `::1` even where IPv6 is off.
 */
export async function bindAll(entries: readonly ResolvedBind[], options: BindOptions): Promise<Listener[]> {
  const bound: Listener[] = [];
  const skipped = new Map<string, BindError>();
  try {
    // `-b localhost:0`: the first address picks the ephemeral port, the name's other addresses share it.
    const portOfName = new Map<string, number>();
    for (const entry of entries) {
      const { fromName } = entry;
      const name = fromName && entry.spec.kind === 'tcp' ? `${fromName}:${entry.spec.port}` : undefined;
      const chosen = name ? portOfName.get(name) : undefined;
      const spec = chosen !== undefined && entry.spec.kind === 'tcp' && entry.spec.port === 0 ? { ...entry.spec, port: chosen } : entry.spec;
      try {
        const listener = await bindListener(spec, options);
        bound.push(listener);
        if (name && listener.port !== undefined) portOfName.set(name, listener.port);
      } catch (err) {
        if (!name || !(err instanceof BindError) || !UNAVAILABLE.has(err.errno)) throw err;
        options.log?.(`Skipping ${formatBind(spec)} (an address of "${fromName}"): ${err.message}`);
        skipped.set(name, err);
      }
    }
    for (const [name, err] of skipped) {
      if (!portOfName.has(name)) throw err;
    }
    return bound;
  } catch (err) {
    for (const listener of bound) listener.close();
    throw err;
  }
}
