// The dashboard's WebSocket (/ws): echoes what it is sent and pushes every server's status once a
// second. Status comes from each master's control socket, so one worker reports on the whole stack,
// the other frameworks' servers included.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { sendControl } from '@nodicorn/server';

const SUFFIX = '.control.sock';
const INTERVAL_MS = 1000;

/**
 * Every server of the stack: `nodicorn stack` puts server X's control socket at
 * `$NODICORN_STACK_DIR/X.control.sock`, so the directory listing is the list of servers.
 */
async function controlSockets(dir) {
  const names = await readdir(dir).catch(() => []);
  return names.filter((n) => n.endsWith(SUFFIX)).sort().map((n) => [n.slice(0, -SUFFIX.length), join(dir, n)]);
}

/** `{ name: status }`, or `{ name: { error } }` for a server that is down or restarting. */
export async function stackStatus(dir = process.env.NODICORN_STACK_DIR) {
  if (!dir) return {};
  const entries = await Promise.all(
    (await controlSockets(dir)).map(async ([name, path]) => {
      try {
        const answer = await sendControl(path, 'status', 900);
        return [name, answer.ok ? answer.status : { error: answer.error }];
      } catch (err) {
        return [name, { error: err instanceof Error ? err.message : String(err) }];
      }
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * An `upgrade(req, socket, head)` for the App: `/ws` becomes a WebSocket, anything else is refused.
 * The ticker runs only while someone listens, so idle workers do not poll the control sockets.
 */
export function liveUpgrade(path = '/ws') {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  let timer = null;

  const tick = async () => {
    const message = JSON.stringify({ type: 'stats', at: Date.now(), servedBy: process.pid, servers: await stackStatus() });
    for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(message);
  };

  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(isBinary ? data : JSON.stringify({ type: 'echo', data: data.toString() })));
    ws.on('error', () => ws.terminate()); // a client gone mid-frame is not this worker's problem
    if (!timer) {
      timer = setInterval(tick, INTERVAL_MS);
      timer.unref(); // never keep a draining worker alive
    }
    ws.on('close', () => {
      if (wss.clients.size === 0 && timer) {
        clearInterval(timer);
        timer = null;
      }
    });
    void tick(); // a fresh dashboard should not wait a second for its first picture
  });

  const upgrade = (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  // Close code 1012 ("service restart") tells the dashboard to reconnect to a fresh worker at once.
  const close = () => {
    for (const client of wss.clients) client.close(1012, 'worker stopping');
  };
  return { upgrade, close };
}
