import { SettingError } from '../errors.js';
import type { Dispatch, WorkerClass } from '../settings/definitions.js';
import type { BindSpec } from './bind-spec.js';

/**
 * Who calls accept(): the workers on the master's shared sockets (Gunicorn's model), the master
 * (round-robin, and the sync class, where only the master knows which worker is free), or each worker
 * on its own SO_REUSEPORT socket.
 */
export type AcceptMode = 'workers' | 'master' | 'reuse-port';

/** `server.listen({ reusePort })` arrived in Node 22.12 and 23.1. */
export function supportsReusePort(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

export function acceptModeFor(dispatch: Dispatch, workerClass: WorkerClass, binds: readonly BindSpec[], nodeVersion?: string): AcceptMode {
  if (workerClass === 'sync') {
    if (dispatch === 'reuse-port') throw new SettingError('Invalid dispatch (--dispatch): reuse-port cannot be combined with --worker-class sync, which needs the master to hand each connection to a free worker. Drop one of them.');
    return 'master';
  }
  if (dispatch === 'round-robin') return 'master';
  if (dispatch === 'shared') return 'workers';
  if (!supportsReusePort(nodeVersion)) {
    throw new SettingError(`Invalid dispatch (--dispatch): reuse-port needs Node >= 22.12 (this is ${nodeVersion ?? process.versions.node}). Use --dispatch shared, which spreads connections as well on Linux.`);
  }
  const ephemeral = binds.find((b) => b.kind === 'tcp' && b.port === 0);
  if (ephemeral) throw new SettingError('Invalid dispatch (--dispatch): reuse-port needs fixed TCP ports; with port 0 every worker would get a different one.');
  return 'reuse-port';
}
