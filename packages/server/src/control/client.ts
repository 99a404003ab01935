import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { NodicornError } from '../errors.js';
import { assertPrivateDir, controlDir } from './paths.js';
import type { ControlCommand, ControlResponse } from './protocol.js';

/** Sends one command to a master's control socket and resolves with its answer. */
export function sendControl(path: string, command: ControlCommand, timeoutMs = 5000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    let answer = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(JSON.stringify({ command }) + '\n'));
    socket.on('data', (chunk: Buffer) => (answer += chunk));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(answer) as ControlResponse);
      } catch {
        reject(new NodicornError('ERR_CONTROL', `Control socket ${path} answered something that is not JSON.`));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'no nodicorn is running there' : err.code === 'EACCES' ? 'permission denied (it belongs to another user)' : err.message;
      reject(new NodicornError('ERR_CONTROL', `Cannot reach control socket ${path}: ${why}.`));
    });
  });
}

/** The control sockets in the default directory, for `nodicorn status` with no target. */
export function listControlSockets(env?: NodeJS.ProcessEnv): string[] {
  const dir = controlDir(env);
  if (!existsSync(dir)) return [];
  assertPrivateDir(dir);
  return readdirSync(dir).filter((name) => name.endsWith('.sock')).map((name) => join(dir, name));
}
