import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, NODICORN_BIN, runCleanups, startNodicorn, startProcess, tempDir, until } from '@nodicorn/testkit';

/**
 * The proxy's claim is "what nginx would do". One stack file; `nodicorn deploy nginx` renders its
 * nginx.conf and `nodicorn deploy systemd` the proxy's config; nginx and `nodicorn proxy` run side
 * by side from those in front of one nodicorn server, and every request of the corpus goes to both
 * as the same bytes. Status and the fields that matter must agree; where they may not, the case says
 * why (and the README's "Differences from nginx" says the same).
 */
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const NGINX = has('nginx') ? 'nginx' : '/usr/sbin/nginx';

const APP = `export const app = (req, res) => {
  let size = 0;
  req.on('data', (c) => (size += c.length));
  req.on('end', () => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, path: req.url, size, proto: req.headers['x-forwarded-proto'] ?? null,
      forwardedFor: req.headers['x-forwarded-for'] ?? null, realIp: req.headers['x-real-ip'] ?? null, host: req.headers.host ?? null,
      underscore: req.headers['x_custom'] ?? null }));
  });
};
`;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Parses one raw HTTP/1.1 response (Content-Length or chunked framing, or until close). */
function parse(raw: Buffer): Answer {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: text };
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    headers[name] = headers[name] ? `${headers[name]}, ${line.slice(colon + 1).trim()}` : line.slice(colon + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let out = '';
    for (let rest = body; ;) {
      const nl = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, nl), 16);
      if (!size) break;
      out += rest.slice(nl + 2, nl + 2 + size);
      rest = rest.slice(nl + 2 + size + 2);
    }
    body = out;
  } else if (headers['content-length'] !== undefined) {
    body = body.slice(0, Number(headers['content-length']));
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1] ?? 0), headers, body };
}

/** Sends the bytes on a fresh connection (TLS when `secure`) and reads the first response. */
function exchange(port: number, secure: boolean, payload: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = secure ? tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }) : net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      socket.destroy();
      resolve(parse(Buffer.concat(chunks)));
    };
    socket.setTimeout(3000, done);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const answer = parse(Buffer.concat(chunks));
      const framed = answer.headers['content-length'] !== undefined ? Buffer.byteLength(answer.body, 'latin1') >= Number(answer.headers['content-length']) : /\r\n0\r\n\r\n$/.test(Buffer.concat(chunks).toString('latin1'));
      if (answer.status && (framed || answer.status === 304 || answer.status === 204 || payload.toString().startsWith('HEAD'))) done();
    });
    socket.on('end', done);
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? done() : reject(err)));
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(payload));
  });
}

/** The static file's modification date, fixed so a conditional request can name it. */
const FILE_DATE = 'Wed, 01 Jan 2020 00:00:00 GMT';

const req = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;
const GET = (path: string, extra: string[] = []) => req([`GET ${path} HTTP/1.1`, 'Host: localhost', 'Connection: close', ...extra]);

/** The fields compared on every answer, beside the status. */
const FIELDS = ['content-type', 'location', 'content-range', 'accept-ranges', 'vary', 'content-encoding'] as const;

interface Case {
  readonly name: string;
  readonly secure: boolean;
  readonly payload: string;
  /** Compare the body too (the app's JSON, a file); error pages differ in wording by design. */
  readonly body?: boolean;
  /** A known difference: what each answers, and why. The test holds both to it. */
  readonly differs?: { readonly nginx: number; readonly proxy: number; readonly why: string };
  readonly fields?: readonly string[];
  /** Fields left out of the comparison for this case, each with why the two may differ. */
  readonly ignore?: Readonly<Record<string, string>>;
}

const RANGE_ACCEPT = "send (the proxy's static engine) repeats Accept-Ranges: bytes on 206, 304 and 416, where nginx sends it on 200 only; both are allowed (RFC 9110 §14.3)";

const CORPUS: readonly Case[] = [
  { name: 'app GET with a query', secure: true, payload: GET('/orders/7?x=1'), body: true },
  { name: 'app POST with a body', secure: true, payload: req(['POST /orders HTTP/1.1', 'Host: localhost', 'Connection: close', 'Content-Length: 1000', 'Content-Type: application/octet-stream'], 'x'.repeat(1000)), body: true },
  { name: 'app POST chunked', secure: true, payload: req(['POST /chunked HTTP/1.1', 'Host: localhost', 'Connection: close', 'Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\n\r\n'), body: true },
  { name: 'client X-Forwarded-For and X-Real-IP are overwritten', secure: true, payload: GET('/who', ['X-Forwarded-For: 6.6.6.6', 'X-Real-IP: 6.6.6.6']), body: true },
  { name: 'a field with an underscore is dropped', secure: true, payload: GET('/u', ['X_Custom: 1']), body: true },
  { name: 'unknown method goes upstream', secure: true, payload: req(['PURGE /thing HTTP/1.1', 'Host: localhost', 'Connection: close']), body: true },
  { name: 'static file', secure: true, payload: GET('/assets/hello.txt'), body: true },
  { name: 'static HEAD', secure: true, payload: req(['HEAD /assets/hello.txt HTTP/1.1', 'Host: localhost', 'Connection: close']) },
  { name: 'static Range', secure: true, payload: GET('/assets/hello.txt', ['Range: bytes=0-4']), body: true, ignore: { 'accept-ranges': RANGE_ACCEPT } },
  { name: 'static unsatisfiable Range', secure: true, payload: GET('/assets/hello.txt', ['Range: bytes=500-600']), ignore: { 'accept-ranges': RANGE_ACCEPT } },
  { name: 'static If-Modified-Since its Last-Modified', secure: true, payload: GET('/assets/hello.txt', [`If-Modified-Since: ${FILE_DATE}`]), ignore: { 'accept-ranges': RANGE_ACCEPT } },
  {
    name: 'static If-Modified-Since a later date',
    secure: true,
    payload: GET('/assets/hello.txt', ['If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT']),
    differs: { nginx: 200, proxy: 304, why: "nginx's default `if_modified_since exact` answers 304 only for the exact date; the proxy (send) follows RFC 9110 §13.1.3: not modified since any later date" },
  },
  { name: 'static missing file', secure: true, payload: GET('/assets/nope.txt') },
  { name: 'static dotfile', secure: true, payload: GET('/assets/.secret') },
  { name: 'static directory index', secure: true, payload: GET('/assets/docs/'), body: true },
  ...['/assets/../src/app.mjs', '/assets/%2e%2e/src/app.mjs'].map((path) => ({
    name: `dot-dot out of a static mount: ${path}`,
    secure: true,
    payload: GET(path),
    differs: { nginx: 200, proxy: 403, why: 'nginx normalises the path to /src/app.mjs and proxies the raw target (with its ..) to the app; the proxy keeps a path written under a static mount with that mount, which refuses the traversal, so an upstream never receives one it might honour' },
  })),
  { name: 'body over client_max_body_size', secure: true, payload: req(['POST /big HTTP/1.1', 'Host: localhost', 'Connection: close', 'Content-Length: 2000000'], 'x'.repeat(1000)) },
  { name: 'TRACE', secure: true, payload: req(['TRACE / HTTP/1.1', 'Host: localhost', 'Connection: close']) },
  { name: 'HTTP/1.1 without Host', secure: true, payload: req(['GET / HTTP/1.1', 'Connection: close']) },
  { name: 'two Host fields', secure: true, payload: req(['GET / HTTP/1.1', 'Host: localhost', 'Host: evil.example', 'Connection: close']) },
  { name: 'Content-Length with Transfer-Encoding', secure: true, payload: req(['POST / HTTP/1.1', 'Host: localhost', 'Connection: close', 'Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n') },
  { name: 'two Content-Length fields', secure: true, payload: req(['POST / HTTP/1.1', 'Host: localhost', 'Connection: close', 'Content-Length: 1', 'Content-Length: 2'], 'ab') },
  { name: 'space in a field name', secure: true, payload: req(['GET / HTTP/1.1', 'Host: localhost', 'Bad Name: x', 'Connection: close']) },
  { name: 'request target not a path', secure: true, payload: req(['GET nothing HTTP/1.1', 'Host: localhost', 'Connection: close']) },
  { name: 'HTTP/2 version on an HTTP/1 connection', secure: true, payload: req(['GET / HTTP/2.0', 'Host: localhost', 'Connection: close']) },
  { name: 'HTTP/1.0 without Host', secure: true, payload: req(['GET /old HTTP/1.0']), body: true },
  { name: 'a 10 KB request line', secure: true, payload: GET(`/${'a'.repeat(10_000)}`) },
  {
    name: 'a 10 KB header field',
    secure: true,
    payload: GET('/', [`X-Big: ${'b'.repeat(10_000)}`]),
    differs: { nginx: 400, proxy: 431, why: 'both refuse a field past 8 KB (large_client_header_buffers); the proxy says so with RFC 6585\'s 431, nginx with a plain 400 "Request Header Or Cookie Too Large"' },
  },
  { name: '100-continue with a body over the limit', secure: true, payload: req(['POST /up HTTP/1.1', 'Host: localhost', 'Connection: close', 'Content-Length: 5000000', 'Expect: 100-continue']) },
  { name: 'OPTIONS *', secure: true, payload: req(['OPTIONS * HTTP/1.1', 'Host: localhost', 'Connection: close']) },
  { name: 'an encoded NUL in the path', secure: true, payload: GET('/a%00b') },
  {
    name: 'a bare LF line ending',
    secure: true,
    payload: 'GET / HTTP/1.1\nHost: localhost\nConnection: close\n\n',
    differs: { nginx: 200, proxy: 400, why: "nginx accepts a bare LF as a line end (RFC 9112 §2.2 allows it); Node's strict llhttp refuses it, which closes a request-smuggling door when the upstream parses lines differently" },
  },
  { name: 'obs-fold continuation line', secure: true, payload: req(['GET / HTTP/1.1', 'Host: localhost', 'X-A: 1', ' folded', 'Connection: close']) },
  { name: 'plain http redirects to https on the configured name', secure: false, payload: GET('/a/b?c=d') },
  { name: 'plain http with a forged Host still redirects to the configured name', secure: false, payload: req(['GET /x HTTP/1.1', 'Host: evil.example', 'Connection: close']) },
];

let ports: { nginx: number; nginxHttp: number; proxy: number; proxyHttp: number };

beforeAll(async () => {
  const dir = tempDir('ndc-diff-');
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'public/docs'), { recursive: true });
  writeFileSync(join(dir, 'src/app.mjs'), APP);
  writeFileSync(join(dir, 'public/hello.txt'), 'static hello\n');
  utimesSync(join(dir, 'public/hello.txt'), new Date(FILE_DATE), new Date(FILE_DATE));
  writeFileSync(join(dir, 'public/docs/index.html'), '<h1>docs</h1>\n');
  writeFileSync(join(dir, 'public/.secret'), 'no');
  const [nginxHttps, nginxHttp, proxyHttps, proxyHttp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  ports = { nginx: nginxHttps, nginxHttp, proxy: proxyHttps, proxyHttp };
  const stack = {
    name: 'diff',
    servers: { web: { app: 'src/app.mjs:app', workers: 1 } },
    proxy: { listen: [`https://127.0.0.1:${nginxHttps}`, `http://127.0.0.1:${nginxHttp}`], serverName: ['localhost'], redirectHttps: true, maxBody: '1m', routes: [{ prefix: '/', upstream: 'web' }], static: ['/assets=public'] },
  };
  const stackFile = join(dir, 'nodicorn.stack.json');
  writeFileSync(stackFile, JSON.stringify(stack));
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const run = join(dir, 'run');
  mkdirSync(run);
  const deploy = (args: string[]) => execFileSync(process.execPath, [NODICORN_BIN, 'deploy', ...args, '--stack', stackFile, '--run-dir', run, '--tls-cert', cert, '--tls-key', key], { encoding: 'utf8' });
  deploy(['nginx', '--out', join(dir, 'nginx')]);
  deploy(['systemd', '--out', join(dir, 'systemd')]);
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'tmp'));

  await startNodicorn(['-b', `unix:${join(run, 'web.sock')}`, '--chdir', dir, '--control-socket', join(dir, 'ctl.sock'), 'src/app.mjs:app']);
  const nginx = startProcess(NGINX, ['-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx/nginx.conf'), '-g', `daemon off;${process.getuid?.() === 0 ? ' user root;' : ''}`]);
  // The proxy runs the config deploy wrote for it; only where it listens and keeps state are local.
  const proxy = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '-c', join(dir, 'systemd/diff-proxy.json'), '--listen', `https://127.0.0.1:${proxyHttps}`, '--listen', `http://127.0.0.1:${proxyHttp}`, '--state-dir', join(dir, 'state'), '--access-log', 'off']);
  await proxy.waitFor(/\[INFO\] Ready: /);
  await until(() => exchange(nginxHttps, true, GET('/')).then((a) => a.status === 200).catch(() => false), 15_000, 'nginx').catch((err: Error) => {
    throw new Error(`${err.message}\nnginx: ${nginx.output()}`);
  });
  expect(JSON.parse(readFileSync(join(dir, 'systemd/diff-proxy.json'), 'utf8'))).toMatchObject({ redirectHttps: true, maxBody: '1m' });
}, 60_000);

afterAll(runCleanups);

/** What a body says once the two proxies' own facts (ports) are taken out. */
const normalise = (body: string, port: number, httpPort: number) => body.replaceAll(`:${port}`, ':PORT').replaceAll(`:${httpPort}`, ':PORT');

describe('nodicorn proxy and the nginx.conf deploy renders, on one corpus', () => {
  it.each(CORPUS)('$name', async (c) => {
    const [viaNginx, viaProxy] = await Promise.all([exchange(c.secure ? ports.nginx : ports.nginxHttp, c.secure, c.payload), exchange(c.secure ? ports.proxy : ports.proxyHttp, c.secure, c.payload)]);
    const summary = (a: Answer, port: number, httpPort: number) => ({
      status: a.status,
      ...Object.fromEntries((c.fields ?? FIELDS).filter((f) => !c.ignore?.[f]).map((f) => [f, a.headers[f] === undefined ? undefined : normalise(a.headers[f]!, port, httpPort).replace(/;\s*charset=utf-8/i, '')])),
      ...(c.body && a.status < 300 ? { body: normalise(a.body, port, httpPort) } : {}),
    });
    const n = summary(viaNginx, ports.nginx, ports.nginxHttp);
    const p = summary(viaProxy, ports.proxy, ports.proxyHttp);
    if (c.differs) {
      expect([viaNginx.status, viaProxy.status], c.differs.why).toEqual([c.differs.nginx, c.differs.proxy]);
      return;
    }
    expect(p, `nginx ${JSON.stringify(n)}\nproxy ${JSON.stringify(p)}`).toEqual(n);
  });
});
