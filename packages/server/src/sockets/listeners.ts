import { fstatSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { constants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { getSystemErrorName } from 'node:util';
import { NodicornError } from '../errors.js';
import { formatBind, type BindSpec } from './bind-spec.js';

/** A socket the master holds open for its workers: bound (and, once a worker listens, listening). */
export interface Listener {
  readonly spec: BindSpec;
  /** The descriptor workers inherit. */
  readonly fd: number;
  /** For logs and banners, with the real port when bound to port 0. */
  readonly label: string;
  /** The TCP port actually bound (port 0 resolves to an ephemeral one). */
  readonly port?: number;
  close(): void;
}

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

function bindError(spec: BindSpec, code: string): NodicornError {
  const where = formatBind(spec);
  const hint =
    code === 'EADDRINUSE' ? 'another process is listening there; stop it or choose another --bind'
      : code === 'EACCES' ? 'permission denied; ports below 1024 need root, or choose another --bind'
        : code === 'EADDRNOTAVAIL' ? 'no local interface has that address'
          : 'check the address';
  return new NodicornError('ERR_BIND_FAILED', `Cannot bind ${where}: ${code} (${hint}).`);
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

function bindOnce(spec: BindSpec, umask: number): ServerHandle | string {
  const create = serverHandleFactory();
  let result: ServerHandle | number;
  if (spec.kind === 'unix') {
    const previous = process.umask(umask);
    try {
      result = create(spec.path, -1, -1);
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
  readonly attempts?: number;
  readonly retryDelayMs?: number;
  readonly log?: (message: string) => void;
}

function inheritedListener(spec: BindSpec & { kind: 'fd' }): Listener {
  let isSocket = false;
  try {
    isSocket = fstatSync(spec.fd).isSocket();
  } catch {
    // not an open descriptor
  }
  if (!isSocket) {
    throw new NodicornError('ERR_BIND_FAILED', `Cannot use fd://${spec.fd}: it is not an open socket inherited by this process.`);
  }
  return { spec, fd: spec.fd, label: formatBind(spec), close: () => undefined };
}

/** Binds one --bind, retrying a few times as Gunicorn does when the address is still in use. */
export async function bindListener(spec: BindSpec, options: BindOptions): Promise<Listener> {
  if (spec.kind === 'fd') return inheritedListener(spec);
  const attempts = options.attempts ?? 5;
  let lastCode = 'EADDRINUSE';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const state = spec.kind === 'unix' ? await prepareUnixPath(spec.path) : 'free';
    const handle = state === 'free' ? bindOnce(spec, options.umask) : 'EADDRINUSE';
    if (typeof handle !== 'string') {
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
          if (spec.kind === 'unix') {
            try {
              unlinkSync(spec.path);
            } catch {
              // already gone
            }
          }
        },
      };
    }
    lastCode = handle;
    if (handle !== 'EADDRINUSE' || attempt === attempts) break;
    options.log?.(`Connection in use: ${formatBind(spec)}; retrying in ${options.retryDelayMs ?? 500} ms`);
    await delay(options.retryDelayMs ?? 500);
  }
  throw bindError(spec, lastCode);
}

/** Binds every listener or none: on a failure, the ones already bound are closed again. */
export async function bindAll(specs: readonly BindSpec[], options: BindOptions): Promise<Listener[]> {
  const bound: Listener[] = [];
  try {
    for (const spec of specs) bound.push(await bindListener(spec, options));
    return bound;
  } catch (err) {
    for (const listener of bound) listener.close();
    throw err;
  }
}
