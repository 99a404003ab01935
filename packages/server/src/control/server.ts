import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { NodicornError } from '../errors.js';
import { ensureControlDir } from './paths.js';
import { isControlRequest, type ControlRequest, type ControlResponse } from './protocol.js';

/**
 * The master's control socket. It is created under umask 0177 (mode 0600) in a 0700 directory, so
 * only the user running the master (and root) can connect: Linux checks write permission on a Unix
 * socket's file at connect().
 */
export async function startControlServer(path: string, handle: (request: ControlRequest) => ControlResponse, options: { privateDir?: boolean } = {}): Promise<{ close(): void }> {
  // The default directory is shared ground (/tmp): it must be ours alone. A --control-socket path is
  // the user's own choice of directory.
  if (options.privateDir) ensureControlDir(dirname(path));
  try {
    if (lstatSync(path).isSocket()) {
      const alive = await new Promise<boolean>((resolve) => {
        const probe = net.connect(path, () => (probe.destroy(), resolve(true)));
        probe.on('error', () => resolve(false));
      });
      if (alive) throw new NodicornError('ERR_CONTROL', `Control socket ${path} is in use by another running nodicorn; give this one another --name or --control-socket.`);
      unlinkSync(path);
    }
  } catch (err) {
    if (err instanceof NodicornError) throw err;
  }
  const server = net.createServer((socket) => {
    createInterface({ input: socket }).on('line', (line) => {
      let response: ControlResponse;
      try {
        const request: unknown = JSON.parse(line);
        response = isControlRequest(request) ? handle(request) : { ok: false, error: `unknown request ${line.slice(0, 80)}` };
      } catch (err) {
        response = { ok: false, error: `bad request: ${(err as Error).message}` };
      }
      socket.end(JSON.stringify(response) + '\n');
    });
    socket.on('error', () => undefined);
  });
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(path, 0o600);
  server.unref();
  return {
    close() {
      server.close();
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}
