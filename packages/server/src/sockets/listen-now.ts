import { spawnSync } from 'node:child_process';
import { NodicornError } from '../errors.js';
import { childExecArgv } from '../process/exec-argv.js';

/**
 * Runs in a short-lived child that inherits the sockets as fds 3…: listen() on each, then exit before
 * its event loop ever runs, so it never accepts. The LISTEN state belongs to the socket, not to the
 * descriptor, so it outlives the child.
 */
const LISTENER = `
const net = require('node:net');
const [count, backlog] = process.argv.slice(1).map(Number);
for (let i = 0; i < count; i++) {
  const server = net.createServer();
  server.listen({ fd: 3 + i, backlog });
  if (!server._handle) process.exit(10 + i);
}
process.exit(0);
`;

/**
 * Puts bound sockets into the LISTEN state now, as Gunicorn's master does, so that a client that
 * connects after "Listening at" waits in the backlog until a worker accepts instead of being refused
 * while the workers still load the app. The master must not listen itself: a listening handle in
 * Node's loop would accept (and steal) connections, so a child that never runs its loop does it.
 */
export function listenNow(fds: readonly number[], backlog: number): void {
  if (fds.length === 0) return;
  const result = spawnSync(process.execPath, [...childExecArgv(), '-e', LISTENER, String(fds.length), String(backlog)], {
    stdio: ['ignore', 'ignore', 'pipe', ...fds],
    timeout: 10_000,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    const which = result.status !== null && result.status >= 10 ? ` (socket ${result.status - 10 + 1} of ${fds.length})` : '';
    throw new NodicornError('ERR_BIND_FAILED', `Cannot listen on the bound sockets${which}: ${result.error?.message ?? (result.stderr.trim() || `exit ${result.status}`)}.`);
  }
}
