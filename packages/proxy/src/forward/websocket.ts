import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { PickContext, UpstreamGroup } from '../upstream/group.js';
import { upstreamRequestHeaders, type ForwardedFacts } from './headers.js';

/** Writes a bare HTTP error on a socket that has left the HTTP server (upgrade path), then closes it. */
export function rejectUpgrade(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${status} ${reason}\n`;
  let extra = '';
  for (const [k, v] of Object.entries(headers)) extra += `${k}: ${v}\r\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
}

/** Largest upstream handshake response head read before giving up (nginx proxy_buffer_size order). */
const MAX_HEAD = 16 * 1024;

/**
 * Whether a response head switches to the WebSocket protocol: status 101 and `Upgrade: websocket`
 * (RFC 9110 §15.2.2, RFC 6455 §4.1). Anything else is an ordinary response, and the connection
 * must stay HTTP: a tunnel opened on it would carry the client's next bytes to the upstream as a
 * request the proxy never checked.
 */
export function switchesToWebSocket(head: string): boolean {
  if (!/^HTTP\/1\.1 101[ \r]/.test(head)) return false;
  return /\r\nupgrade:[ \t]*websocket[ \t]*\r\n/i.test(head);
}

/** Content-Length of a response head, or -1 when it has none. */
function contentLength(head: string): number {
  const m = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(head);
  return m ? Number(m[1]) : -1;
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
  context?: PickContext,
): void {
  const server = group.pick(null, Date.now(), context);
  if (!server) return rejectUpgrade(socket, 502, 'Bad Gateway');
  // A tunnel is a connection in flight for least_conn as long as it is open.
  server.active++;
  let held = true;
  const release = () => {
    if (held) server.active--;
    held = false;
  };
  // Hold anything the client sends early until the upstream is there to take it.
  socket.pause();
  const { socketPath, host, port } = server.address;
  const upstream = socketPath ? net.connect(socketPath) : net.connect(port!, host!);
  let connected = false;
  const close = () => {
    release();
    tunnels.delete(socket);
    socket.destroy();
    upstream.destroy();
  };
  tunnels.add(socket);
  socket.on('error', close).on('close', close);
  upstream.on('error', () => {
    if (connected) return close();
    server.failed(Date.now());
    release();
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
    upstream.on('close', close);
    awaitSwitch(socket, upstream, head, close);
  });
}

/**
 * Reads the upstream's answer to the handshake. On 101 + websocket the bytes flow both ways;
 * otherwise the response (head, and the body as far as Content-Length says) is relayed and both
 * connections close, and nothing more from the client ever reaches the upstream.
 */
function awaitSwitch(socket: Duplex, upstream: net.Socket, early: Buffer, close: () => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_HEAD) {
        upstream.off('data', onData);
        rejectUpgrade(socket, 502, 'Bad Gateway');
        upstream.destroy();
      }
      return;
    }
    upstream.off('data', onData);
    const headText = buf.subarray(0, end + 4).toString('latin1');
    if (switchesToWebSocket(headText)) {
      socket.write(buf);
      // What the client sent after its handshake goes up only once the protocol has switched.
      if (early.length) upstream.write(early);
      socket.pipe(upstream);
      upstream.pipe(socket);
      socket.resume();
      return;
    }
    // Not switching: relay the ordinary response and end there (the client's socket stays paused).
    const length = contentLength(headText);
    if (length < 0) {
      socket.write(buf);
      upstream.pipe(socket);
      return;
    }
    const total = end + 4 + length;
    if (buf.length >= total) return void socket.end(buf.subarray(0, total), close);
    socket.write(buf);
    let left = total - buf.length;
    upstream.on('data', (more: Buffer) => {
      if (more.length < left) {
        left -= more.length;
        socket.write(more);
        return;
      }
      socket.end(more.subarray(0, left), close);
      left = 0;
    });
  };
  upstream.on('data', onData);
}
