// Socket.IO across nodicorn workers. Each worker runs its own Socket.IO server, so a client must keep
// talking to the worker that holds its session. Over the WebSocket transport that is one connection,
// so it holds by construction; HTTP long-polling sends each poll as a new request, which only works
// with sticky routing, and nodicorn has no dispatch mode that routes by session.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { runCleanups, startNodicorn } from '@nodicorn/testkit';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** Two workers; round-robin dispatch, so consecutive connections land on alternate workers. */
const serve = () => startNodicorn(['-w', '2', '--dispatch', 'round-robin', '-b', '127.0.0.1:0', '--chdir', FIXTURES, 'socketio-app.mjs:server']);

function connect(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  return new Promise((resolve, reject) => socket.once('connect', () => resolve(socket)).once('connect_error', reject));
}

/** One engine.io polling request on a connection of its own. */
function poll(url: string, query: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(`${url}/socket.io/?EIO=4&transport=polling${query}`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('Socket.IO under nodicorn with 2 workers', () => {
  afterEach(runCleanups);

  it('works over the WebSocket transport: every client keeps its session on its worker, and clients spread over both', async () => {
    const server = await serve();
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 4; i++) sockets.push(await connect(server.url));
      const pids = await Promise.all(sockets.map((s) => s.timeout(5000).emitWithAck('whoami') as Promise<number>));
      expect(new Set(pids).size, `workers seen: ${pids.join(', ')}`).toBe(2);
      for (const [i, socket] of sockets.entries()) {
        for (let n = 0; n < 3; n++) expect(await socket.timeout(5000).emitWithAck('echo', `m${i}.${n}`)).toBe(`m${i}.${n}`);
        expect(await socket.timeout(5000).emitWithAck('whoami'), 'the same worker throughout').toBe(pids[i]);
      }
    } finally {
      for (const socket of sockets) socket.disconnect();
    }
  });

  it('does not work over long-polling without sticky routing: the next poll reaches the other worker, which has no such session', async () => {
    const server = await serve();
    const handshake = await poll(server.url, '');
    expect(handshake.status).toBe(200);
    const { sid } = JSON.parse(handshake.body.slice(1)) as { sid: string }; // "0{...}": engine.io's open packet
    const next = await poll(server.url, `&sid=${sid}`);
    expect([next.status, JSON.parse(next.body)]).toEqual([400, { code: 1, message: 'Session ID unknown' }]);
  });
});
