import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, request, runCleanups, startProcess, tempDir } from '@nodicorn/testkit';
import { startProxy, startUpstream } from './helpers.js';
import { issue, makeCa, type TestCa } from './pki.js';

afterEach(runCleanups);

/** A static root whose index.html says which server answered. */
function site(dir: string, name: string): string {
  const root = join(dir, `site-${name}`);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'index.html'), `site ${name}`);
  return root;
}

/** The fingerprint of the certificate a handshake with this SNI name gets. */
function handshake(port: number, servername: string | undefined, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

function h2get(session: http2.ClientHttp2Session, authority: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':authority': authority }, { endStream: true });
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => (body += c));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}

function h2connect(port: number, servername: string, ca: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername, ca });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

interface Setup {
  readonly dir: string;
  readonly ca: TestCa;
  readonly config: string;
  /** Fingerprints of the certificates as first written. */
  readonly fp: Record<'top' | 'shop' | 'wild', string>;
}

/** Three servers: shop.example (own certificate), *.wild.example (own certificate) and the top level (localhost). */
async function setup(extra: Record<string, unknown> = {}): Promise<Setup> {
  const up = await startUpstream();
  const dir = up.dir;
  const ca = makeCa(dir);
  const top = issue(ca, 'top', { names: ['localhost'] });
  const shop = issue(ca, 'shop', { names: ['shop.example', 'www.shop.example'] });
  const wild = issue(ca, 'wild', { names: ['*.wild.example'] });
  const config = join(dir, 'proxy.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      tlsCert: top.certPath,
      tlsKey: top.keyPath,
      upstreams: { app: [`unix:${up.socket}`] },
      routes: [{ prefix: '/', upstream: 'app' }],
      hosts: {
        'shop.example www.shop.example': { static: [`/=${site(dir, 'shop')}`], tlsCert: 'shop.pem', tlsKey: 'shop.key' },
        '*.wild.example': { static: [`/=${site(dir, 'wild')}`], tlsCert: 'wild.pem', tlsKey: 'wild.key' },
        '.dot.example': { static: [`/=${site(dir, 'dot')}`] },
        'exact.wild.example': { static: [`/=${site(dir, 'exact')}`] },
      },
      ...extra,
    }),
  );
  return { dir, ca, config, fp: { top: top.fingerprint, shop: shop.fingerprint, wild: wild.fingerprint } };
}

const whichSite = (body: string) => (/^site (\w+)/.exec(body)?.[1] ?? (body.includes('"headers"') ? 'top' : body));

describe('virtual hosts', () => {
  it('routes by Host as nginx server_name: exact, longest wildcard, .name, default; case, port and trailing dot ignored', async () => {
    const s = await setup();
    const proxy = await startProxy(['--config', s.config, '--listen', 'http://127.0.0.1:0']);
    const cases: [string, string][] = [
      ['shop.example', 'shop'],
      ['WWW.Shop.Example.:80', 'shop'],
      ['a.wild.example', 'wild'],
      ['a.b.wild.example', 'wild'],
      ['exact.wild.example', 'exact'],
      // A leading wildcard does not cover the bare name: the default server answers.
      ['wild.example', 'top'],
      ['dot.example', 'dot'],
      ['x.dot.example', 'dot'],
      ['unknown.example', 'top'],
      ['shop.example.evil', 'top'],
    ];
    for (const [host, expected] of cases) {
      const res = await request({ url: proxy.http, path: '/' }, { headers: { host } });
      expect([host, whichSite(res.body)]).toEqual([host, expected]);
    }
  });

  it('a host block marked default takes unknown names', async () => {
    const s = await setup();
    const proxy = await startProxy(['--config', s.config, '--listen', 'http://127.0.0.1:0']);
    expect(whichSite((await request({ url: proxy.http, path: '/' }, { headers: { host: 'nobody.example' } })).body)).toBe('top');
    const cfg = JSON.parse(readFileSync(s.config, 'utf8'));
    cfg.hosts['*.wild.example'].default = true;
    writeFileSync(s.config, JSON.stringify(cfg));
    proxy.proc.signal('SIGHUP');
    await proxy.proc.waitFor(/Reloaded configuration and certificates/);
    expect(whichSite((await request({ url: proxy.http, path: '/' }, { headers: { host: 'nobody.example' } })).body)).toBe('wild');
    // --server-name localhost still selects the top level.
    expect(whichSite((await request({ url: proxy.http, path: '/' }, { headers: { host: 'localhost' } })).body)).toBe('top');
  });

  it('presents each host block its certificate by SNI, the top-level one otherwise, and answers 421 to a coalesced h2 request', async () => {
    const s = await setup();
    const proxy = await startProxy(['--config', s.config, '--listen', 'https://127.0.0.1:0']);
    const port = Number(new URL(proxy.https).port);
    const fp = (name: keyof Setup['fp']) => s.fp[name];
    expect(await handshake(port, 'shop.example', s.ca.pem)).toBe(fp('shop'));
    expect(await handshake(port, 'www.shop.example', s.ca.pem)).toBe(fp('shop'));
    expect(await handshake(port, 'a.wild.example', s.ca.pem)).toBe(fp('wild'));
    // A block without its own certificate, an unknown name and no SNI at all: the top-level one.
    expect(await handshake(port, 'x.dot.example', s.ca.pem)).toBe(fp('top'));
    expect(await handshake(port, 'unknown.example', s.ca.pem)).toBe(fp('top'));
    expect(await handshake(port, undefined, s.ca.pem)).toBe(fp('top'));

    // A real h2 client, verifying the certificate for shop.example.
    const session = await h2connect(port, 'shop.example', s.ca.pem);
    expect(await h2get(session, 'shop.example')).toEqual({ status: 200, body: 'site shop' });
    expect(await h2get(session, 'www.shop.example:443')).toEqual({ status: 200, body: 'site shop' });
    // Coalescing: the same connection asked for names whose servers present other certificates.
    expect((await h2get(session, 'a.wild.example')).status).toBe(421);
    expect((await h2get(session, 'localhost')).status).toBe(421);
    // The connection is still good after a 421.
    expect((await h2get(session, 'shop.example')).status).toBe(200);
    session.close();
    // The client that opens its own connection, as 421 tells it to, is served.
    const wild = await h2connect(port, 'a.wild.example', s.ca.pem);
    expect(await h2get(wild, 'a.wild.example')).toEqual({ status: 200, body: 'site wild' });
    // Two names sharing a certificate (the top-level one) may share a connection.
    const local = await h2connect(port, 'localhost', s.ca.pem);
    expect(await h2get(local, 'x.dot.example')).toEqual({ status: 200, body: 'site dot' });
    local.close();
    wild.close();
  });

  it('SIGHUP re-reads host certificates: new handshakes get the new one, an open connection keeps working, a bad file keeps the old ones', async () => {
    const s = await setup();
    const proxy = await startProxy(['--config', s.config, '--listen', 'https://127.0.0.1:0']);
    const port = Number(new URL(proxy.https).port);
    const before = s.fp.shop;
    expect(await handshake(port, 'shop.example', s.ca.pem)).toBe(before);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: s.ca.pem, servername: 'shop.example' });
    const sockets = new Set<unknown>();
    const viaAgent = () =>
      new Promise<string>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, path: '/', agent, servername: 'shop.example', headers: { host: 'shop.example' } }, (res) => {
          sockets.add(res.socket);
          let body = '';
          res.on('data', (c) => (body += c)).on('end', () => resolve(body));
        }).on('error', reject);
      });
    expect(await viaAgent()).toBe('site shop');

    const renewed = issue(s.ca, 'shop-renewed', { names: ['shop.example', 'www.shop.example'] });
    copyFileSync(renewed.certPath, join(s.dir, 'shop.pem'));
    copyFileSync(renewed.keyPath, join(s.dir, 'shop.key'));
    proxy.proc.signal('SIGHUP');
    await proxy.proc.waitFor(/Reloaded configuration and certificates/);
    expect(await handshake(port, 'shop.example', s.ca.pem)).toBe(renewed.fingerprint);
    expect(renewed.fingerprint).not.toBe(before);
    expect(await viaAgent()).toBe('site shop');
    expect(sockets.size).toBe(1);

    // A broken file: the reload is refused in one line naming it, and the running set stays.
    writeFileSync(join(s.dir, 'wild.pem'), 'not a certificate');
    proxy.proc.signal('SIGHUP');
    await proxy.proc.waitFor(/Reload failed/);
    const line = proxy.proc.output().split('\n').find((l) => l.includes('Reload failed'))!;
    expect(line).toContain(join(s.dir, 'wild.pem'));
    expect(line).toContain('hosts.*.wild.example');
    expect(await handshake(port, 'a.wild.example', s.ca.pem)).toBe(s.fp.wild);
    expect(await handshake(port, 'shop.example', s.ca.pem)).toBe(renewed.fingerprint);
    agent.destroy();
  });

  it('redirects to https on a configured name only: exact host names and names under a wildcard, never a forged Host', async () => {
    const s = await setup({ serverName: ['app.test'], redirectHttps: true });
    const proxy = await startProxy(['--config', s.config, '--listen', 'http://127.0.0.1:0', '--listen', 'https://127.0.0.1:0']);
    const httpsPort = new URL(proxy.https).port;
    const location = async (host: string) => (await request({ url: proxy.http, path: '/p?q=1' }, { headers: { host } })).headers.location;
    expect(await location('shop.example')).toBe(`https://shop.example:${httpsPort}/p?q=1`);
    expect(await location('A.Wild.Example.')).toBe(`https://a.wild.example:${httpsPort}/p?q=1`);
    expect(await location('x.dot.example')).toBe(`https://x.dot.example:${httpsPort}/p?q=1`);
    expect(await location('evil.example')).toBe(`https://app.test:${httpsPort}/p?q=1`);
    expect(await location('wild.example.evil.example')).toBe(`https://app.test:${httpsPort}/p?q=1`);
  });

  it('refuses an unknown key in a host block in one line naming hosts.<name>.<key> and the nearest valid key', async () => {
    const dir = tempDir('ndcpx-');
    const config = join(dir, 'proxy.config.json');
    writeFileSync(config, JSON.stringify({ upstreams: { app: ['127.0.0.1:9'] }, hosts: { 'shop.example': { rutes: [{ prefix: '/', upstream: 'app' }] } } }));
    const proc = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--config', config]);
    expect(await proc.exited()).toBe(2);
    const out = proc.output().trim().split('\n');
    expect(out).toHaveLength(1);
    expect(out[0]).toContain('hosts.shop.example.rutes is not a key of a host block; did you mean routes?');

    writeFileSync(config, JSON.stringify({ upstreams: { app: ['127.0.0.1:9'] }, hosts: { 'a.example': { routes: [{ prefix: '/', upstream: 'app' }] }, '*.example a.example': { routes: [{ prefix: '/', upstream: 'app' }] } } }));
    const twice = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--config', config]);
    expect(await twice.exited()).toBe(2);
    expect(twice.output()).toMatch(/server name "a\.example" is also in hosts\.a\.example/);
  });
});
