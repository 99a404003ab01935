import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NODICORN_BIN, onCleanup, request, startNodicorn, startProcess, tempDir, type Proc } from '@nodicorn/testkit';

const wsEntry = pathToFileURL(createRequire(import.meta.url).resolve('ws')).href;

/**
 * The upstream every proxy test talks to: a real nodicorn server on a Unix socket, whose app
 * reports what it saw (`/echo`), counts requests (`/count`), answers slowly (`/slow?ms=`), asks to
 * close (`/close`), streams (`/sse`, `/nobuf`) and echoes WebSocket messages.
 */
export const UPSTREAM_APP = `
import WS from '${wsEntry}';
let count = 0;
const seen = [];
// /slow?tag=T requests in progress per tag, and the most ever at once (pipelining tests).
const inFlight = {};
const maxInFlight = {};
const wss = new WS.WebSocketServer({ noServer: true });
wss.on('connection', (ws, req) => ws.on('message', (m, binary) => ws.send(binary ? m : 'echo:' + m + ':' + (req.headers['x-forwarded-for'] ?? ''))));
export const app = {
  handle(req, res) {
    count++;
    seen.push(req.method + ' ' + req.url);
    const url = new URL(req.url, 'http://x');
    const json = (v, h = {}) => { res.writeHead(200, { 'content-type': 'application/json', ...h }); res.end(JSON.stringify(v)); };
    let size = 0;
    req.on('data', (c) => (size += c.length));
    req.on('end', () => {
      switch (url.pathname) {
        case '/count': return json({ count, seen, inFlight, maxInFlight });
        case '/slow': {
          const tag = url.searchParams.get('tag') ?? '-';
          inFlight[tag] = (inFlight[tag] ?? 0) + 1;
          maxInFlight[tag] = Math.max(maxInFlight[tag] ?? 0, inFlight[tag]);
          const done = () => { if (timer) { clearTimeout(timer); timer = null; inFlight[tag]--; } };
          let timer = setTimeout(() => { done(); json({ slow: true }); }, Number(url.searchParams.get('ms') ?? 2000));
          res.once('close', done);
          return;
        }
        case '/close': return json({ closing: true }, { connection: 'close' });
        case '/big': res.writeHead(200, { 'content-type': 'application/octet-stream' }); return res.end(Buffer.alloc(Number(url.searchParams.get('bytes')), 97));
        case '/sse':
        case '/nobuf': {
          res.writeHead(200, url.pathname === '/sse' ? { 'content-type': 'text/event-stream' } : { 'content-type': 'text/plain', 'x-accel-buffering': 'no' });
          res.write('data: first\\n\\n');
          return setTimeout(() => res.end('data: last\\n\\n'), Number(url.searchParams.get('ms') ?? 1500));
        }
        case '/hop': return json({}, { 'keep-alive': 'timeout=99', 'x-app': 'yes', 'connection': 'x-secret', 'x-secret': 'leak' });
        default: return json({ method: req.method, url: req.url, headers: req.headers, size, pid: process.pid });
      }
    });
  },
  upgrade(req, socket, head) {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  },
};
`;

export interface Upstream {
  readonly dir: string;
  readonly socket: string;
  readonly proc: Proc;
}

/** Starts the upstream app under nodicorn on `unix:<dir>/<name>.sock`. */
export async function startUpstream(name = 'app', dir = tempDir('ndcpx-')): Promise<Upstream> {
  writeFileSync(join(dir, 'app.mjs'), UPSTREAM_APP);
  const socket = join(dir, `${name}.sock`);
  const proc = await startNodicorn(['-w', '1', '-b', `unix:${socket}`, '--chdir', dir, 'app.mjs:app']);
  return { dir, socket, proc };
}

/** ARGS with --workers 1 in front unless they choose a worker count themselves. */
export function oneProcess(args: readonly string[]): string[] {
  return args.some((a) => /^(-w|--workers)(=|$)/.test(a)) ? [...args] : ['--workers', '1', ...args];
}

export interface RunningProxy {
  readonly proc: Proc;
  /** The first http and https listeners, as logged (`http://127.0.0.1:PORT`). */
  readonly http: string;
  readonly https: string;
  readonly port: number;
}

/**
 * Starts `nodicorn proxy ARGS` and reads its bound listeners back from the log. One process
 * (--workers 1) unless ARGS say otherwise: these tests are about what one proxy does; the
 * master's part is tested in packages/cli/test/proxy-workers.test.ts.
 */
export async function startProxy(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunningProxy> {
  const proc = startProcess(process.execPath, [NODICORN_BIN, 'proxy', ...oneProcess(args)], { cwd: options.cwd, env: options.env });
  await proc.waitFor(/\[INFO\] Ready: /);
  const http = /Listening at: (http:\/\/\S+)/.exec(proc.output())?.[1] ?? '';
  const https = /Listening at: (https:\/\/\S+)/.exec(proc.output())?.[1] ?? '';
  return { proc, http, https, port: Number(/:(\d+)$/.exec(http || https)?.[1]) };
}

/** Sends raw bytes on a fresh TCP connection and resolves with everything read until the peer closes or `idleMs` passes quietly. */
export function rawExchange(port: number, payload: string | Buffer, idleMs = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('data', (c) => (data += c.toString('latin1')));
    socket.on('close', () => resolve(data));
    socket.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(data) : reject(err)));
    socket.write(payload);
  });
}

/** The status codes of every HTTP response in a raw byte stream. */
/** What the upstream app has seen so far (its /count answer), asked directly on its socket. */
export async function upstreamSeen(up: Upstream): Promise<{ count: number; seen: string[]; inFlight: Record<string, number>; maxInFlight: Record<string, number> }> {
  return JSON.parse((await request({ socketPath: up.socket, path: '/count' })).body) as never;
}

export function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}

/** An upstream that answers every request with 200 and keeps reading: records every byte it gets. */
export async function plainUpstream(): Promise<{ socket: string; received: () => string }> {
  const socket = join(tempDir('ndcpw-'), 'plain.sock');
  let data = '';
  const server = net.createServer((c) => {
    c.on('error', () => {});
    c.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { socket, received: () => data };
}

export interface H2Result {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP/2 session to the proxy, closed at cleanup. */
export function connect(url: string): http2.ClientHttp2Session {
  const session = http2.connect(url, { rejectUnauthorized: false });
  session.on('error', () => {});
  onCleanup(() => void session.destroy());
  return session;
}

export function h2(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let head: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (head = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}
