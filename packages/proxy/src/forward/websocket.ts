import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { UpstreamGroup } from '../upstream/group.js';
import { upstreamRequestHeaders, type ForwardedFacts } from './headers.js';

/** Writes a bare HTTP error on a socket that has left the HTTP server (upgrade path), then closes it. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${status} ${reason}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Forwards a WebSocket handshake and then the bytes both ways, as nginx does with
 * `proxy_set_header Upgrade/Connection`. The tunnel closes when either side ends, errs or stays
 * idle past `idleMs`; no error on either socket can reach the process.
 */
export function forwardWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  group: UpstreamGroup,
  facts: Omit<ForwardedFacts, 'upgrade'>,
  idleMs: number,
  tunnels: Set<Duplex>,
): void {
  const server = group.pick(null);
  if (!server) return rejectUpgrade(socket, 502, 'Bad Gateway');
  // Hold anything the client sends early until the upstream is there to take it.
  socket.pause();
  const { socketPath, host, port } = server.address;
  const upstream = socketPath ? net.connect(socketPath) : net.connect(port!, host!);
  let connected = false;
  const close = () => {
    tunnels.delete(socket);
    socket.destroy();
    upstream.destroy();
  };
  tunnels.add(socket);
  socket.on('error', close).on('close', close);
  upstream.on('error', () => {
    if (connected) return close();
    server.failed(Date.now());
    tunnels.delete(socket);
    rejectUpgrade(socket, 502, 'Bad Gateway');
    upstream.destroy();
  });
  upstream.setTimeout(idleMs, close);
  (socket as net.Socket).setTimeout?.(idleMs, close);
  upstream.on('connect', () => {
    connected = true;
    const headers = upstreamRequestHeaders(req, { ...facts, upgrade: true });
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) text += `${headers[i]}: ${headers[i + 1]}\r\n`;
    upstream.write(`${text}\r\n`);
    if (head.length) upstream.write(head);
    upstream.on('close', close);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
}
