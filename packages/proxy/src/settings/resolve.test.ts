import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxySettingError } from '../errors.js';
import { parseListen, parseServer } from './addresses.js';
import { resolveProxyConfig } from './resolve.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'ndcpx-u-'));
  dirs.push(d);
  return d;
};

describe('addresses', () => {
  it('parses listeners and servers', () => {
    expect(parseListen('https://[::1]:8443')).toEqual({ scheme: 'https', host: '::1', port: 8443 });
    expect(parseListen('http://0.0.0.0:0')).toEqual({ scheme: 'http', host: '0.0.0.0', port: 0 });
    expect(parseListen('http://x:70000')).toMatch(/out of range/);
    expect(parseServer('unix:/run/app.sock')).toEqual({ label: 'unix:/run/app.sock', socketPath: '/run/app.sock' });
    expect(parseServer('127.0.0.1:8000')).toEqual({ label: '127.0.0.1:8000', host: '127.0.0.1', port: 8000 });
    expect(parseServer('[::1]:8000')).toMatchObject({ host: '::1', port: 8000 });
    expect(parseServer('localhost')).toMatch(/expected unix:PATH or HOST:PORT/);
  });
});

describe('resolveProxyConfig', () => {
  it('routes / to the default upstream and sorts prefixes longest first', async () => {
    const dir = temp();
    const cfg = await resolveProxyConfig(['--upstream', 'unix:/a.sock', '--static', `/assets=${dir}`, '--static', `/assets/img=${dir}`], dir);
    expect(cfg.routes.map((r) => r.prefix)).toEqual(['/assets/img', '/assets', '/']);
    expect(cfg.settings.maxBody).toBe(1024 * 1024);
  });

  it('layers flags over a config file with named upstreams and routes', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'proxy.config.json'), JSON.stringify({ listen: ['http://127.0.0.1:0'], maxBody: '2m', upstreams: { api: ['unix:/api.sock', '127.0.0.1:9000'], web: 'unix:/web.sock' }, routes: [{ prefix: '/api/', upstream: 'api' }, { prefix: '/', upstream: 'web' }] }));
    const cfg = await resolveProxyConfig(['--config', 'proxy.config.json', '--max-body', '5k'], dir);
    expect(cfg.settings.maxBody).toBe(5 * 1024);
    expect(cfg.routes).toEqual([{ prefix: '/api', kind: 'upstream', upstream: 'api' }, { prefix: '/', kind: 'upstream', upstream: 'web' }]);
    expect(cfg.upstreams.get('api')!.servers.map((s) => s.address.label)).toEqual(['unix:/api.sock', '127.0.0.1:9000']);
  });

  it('imports a .mjs config exporting a function', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'proxy.config.mjs'), "export default () => ({ upstream: 'unix:/x.sock', hsts: true });");
    const cfg = await resolveProxyConfig(['-c', 'proxy.config.mjs'], dir);
    expect(cfg.settings.hsts).toBe(true);
  });

  it.each([
    [['--upstream', 'unix:/a', '--tls-cert', 'c.pem'], /--tls-cert\/--tls-key: give both/],
    [['--upstream', 'unix:/a', '--connect-timeout', '0'], /--connect-timeout \(connectTimeout\): must be more than 0/],
    [['--upstream', 'unix:/a', '--redirect-https=maybe'], /--redirect-https: expected on or off/],
    [['--upstream', 'unix:/a', 'stray'], /Unexpected argument "stray"/],
    [['--upstream'], /Option --upstream needs a value/],
  ])('%j is a ProxySettingError', async (argv, message) => {
    const err = await resolveProxyConfig(argv, temp()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxySettingError);
    expect((err as ProxySettingError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(message);
  });

  it('rejects a route to an upstream that does not exist', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ upstreams: { a: ['unix:/a'] }, routes: [{ prefix: '/', upstream: 'b' }] }));
    await expect(resolveProxyConfig(['--config', 'p.json'], dir)).rejects.toThrow(/routes\[0\] \(config file\): upstream "b" is not one of the upstreams \(a\)/);
  });
});

describe('strict config keys', () => {
  const withFile = async (spec: object) => {
    const dir = temp();
    writeFileSync(join(dir, 'p.json'), JSON.stringify(spec));
    return resolveProxyConfig(['--config', 'p.json'], dir).catch((e: unknown) => e as ProxySettingError);
  };

  it('refuses an unknown route key with its path and the nearest valid key', async () => {
    const err = (await withFile({ upstreams: { a: ['unix:/a'] }, routes: [{ prefix: '/x', upstream: 'a' }, { prefix: '/', upstream: 'a', upstreem: 'a' }] })) as ProxySettingError;
    expect(err).toBeInstanceOf(ProxySettingError);
    expect(err.exitCode).toBe(2);
    expect(err.code).toBe('ERR_PROXY_CONFIG_FILE');
    expect(err.message).toMatch(/^Config file \/\S+\/p\.json: routes\[1\]\.upstreem is not a key of a route; did you mean upstream\?/);
    expect(err.message).not.toContain('\n');
  });

  it('refuses cache as not supported yet rather than serving uncached in silence', async () => {
    const err = (await withFile({ upstreams: { a: ['unix:/a'] }, routes: [{ prefix: '/', upstream: 'a', cache: true }] })) as ProxySettingError;
    expect(err.message).toMatch(/routes\[0\]\.cache is not supported yet/);
  });

  it('refuses an unknown key in a static mount object, and a route that is not an object', async () => {
    const dir = temp();
    const err = (await withFile({ static: [{ prefix: '/a', dir, dri: dir }] })) as ProxySettingError;
    expect(err.message).toMatch(/static\[0\]\.dri is not a key of a static mount; did you mean dir\?/);
    expect(((await withFile({ upstreams: { a: ['unix:/a'] }, routes: ['/'] })) as Error).message).toMatch(/routes\[0\] \(config file\): expected \{ prefix, upstream \}/);
  });
});

describe('route traffic keys', () => {
  const route = async (extra: object, files: Record<string, string> = {}) => {
    const dir = temp();
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'p.json'), JSON.stringify({ upstreams: { a: ['unix:/a'] }, routes: [{ prefix: '/api/', upstream: 'a', ...extra }] }));
    return resolveProxyConfig(['--config', 'p.json'], dir).catch((e: unknown) => e as ProxySettingError);
  };
  const traffic = async (extra: object, files?: Record<string, string>) => {
    const cfg = await route(extra, files);
    if (cfg instanceof Error) throw cfg;
    return (cfg.routes[0] as { traffic?: unknown }).traffic;
  };

  it("reads limitReq in nginx's units, limitConn, allow before deny, and auth relative to the file", async () => {
    expect(await traffic({ limitReq: { rate: '30r/m', burst: 10, nodelay: true, key: 'header:X-Api-Key', status: 429 } })).toMatchObject({
      limitReq: { rate: 500, rateText: '30r/m', burst: 10, delay: Infinity, nodelay: true, key: { kind: 'header', name: 'x-api-key' }, status: 429 },
      limitConn: null,
      access: [],
      auth: null,
    });
    expect(await traffic({ limitReq: { rate: '5r/s' }, limitConn: { max: 2, key: 'route' } })).toMatchObject({ limitReq: { rate: 5000, burst: 0, delay: 0, key: { kind: 'addr' }, status: 503 }, limitConn: { max: 2, key: { kind: 'route' }, status: 503 } });
    expect((await traffic({ deny: ['all'], allow: ['10.0.0.0/8', '::1'] }) as { access: unknown }).access).toEqual([
      { action: 'allow', address: '10.0.0.0/8' },
      { action: 'allow', address: '::1' },
      { action: 'deny', address: 'all' },
    ]);
    expect((await traffic({ access: [{ deny: '10.0.0.5' }, { allow: ['10.0.0.0/8'] }, { deny: 'all' }] }) as { access: unknown }).access).toEqual([
      { action: 'deny', address: '10.0.0.5' },
      { action: 'allow', address: '10.0.0.0/8' },
      { action: 'deny', address: 'all' },
    ]);
    const auth = (await traffic({ auth: 'users' }, { users: 'alice:{PLAIN}x\n' }) as { auth: { file: string; realm: string; forward: boolean } }).auth;
    expect(auth).toMatchObject({ realm: 'Restricted', forward: true });
    expect(auth.file).toMatch(/\/users$/);
  });

  it.each([
    [{ limitReq: { rate: '5r/s', brust: 3 } }, /routes\[0\]\.limitReq\.brust is not a key of limitReq; did you mean burst\?/],
    [{ limitReqq: { rate: '5r/s' } }, /routes\[0\]\.limitReqq is not a key of a route; did you mean limitReq\?/],
    [{ limitReq: { rate: '5/s' } }, /routes\[0\]\.limitReq\.rate must be requests per second or minute such as "5r\/s"/],
    [{ limitReq: { rate: '0r/s' } }, /limitReq\.rate must be/],
    [{ limitReq: { rate: '5r/s', burst: -1 } }, /limitReq\.burst must be a whole number of at least 0/],
    [{ limitReq: { rate: '5r/s', burst: 5, nodelay: true, delay: 2 } }, /limitReq\.delay and nodelay exclude each other/],
    [{ limitReq: { rate: '5r/s', status: 200 } }, /limitReq\.status must be a status from 400 to 599/],
    [{ limitReq: { rate: '5r/s', key: 'cookie:x' } }, /limitReq\.key must be "addr", "route" or "header:NAME"/],
    [{ limitConn: { key: 'addr' } }, /limitConn\.max is required/],
    [{ limitConn: { max: 0 } }, /limitConn\.max must be a whole number of at least 1/],
    [{ allow: ['10.0.0.0/33'] }, /routes\[0\]\.allow\[0\] the prefix length of "10\.0\.0\.0\/33" must be 0 to 32/],
    [{ deny: 'evil.example' }, /routes\[0\]\.deny\[0\] expected an address, a CIDR range/],
    [{ access: [{ allow: 'all' }], deny: ['all'] }, /routes\[0\]\.access replaces allow and deny/],
    [{ access: [{ alow: 'all' }] }, /routes\[0\]\.access\[0\]\.alow is not a key of an access entry; did you mean allow\?/],
    [{ auth: 'missing-file' }, /routes\[0\]\.auth .*missing-file cannot be read \(ENOENT\)/],
    [{ auth: { file: 'users', realm: 'a"b' } }, /routes\[0\]\.auth\.realm must be text without quotes/],
    [{ auth: { file: 'users', fwd: false } }, /routes\[0\]\.auth\.fwd is not a key of auth/],
  ])('%j is refused in one line', async (extra, message) => {
    const err = await route(extra, { users: 'alice:{PLAIN}x\n' });
    expect(err).toBeInstanceOf(ProxySettingError);
    expect((err as ProxySettingError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('an htpasswd line the proxy cannot check is refused at startup with its line', async () => {
    const err = await route({ auth: 'users' }, { users: 'alice:{PLAIN}x\nbob:$6$salt$hash\n' });
    expect((err as Error).message).toMatch(/routes\[0\]\.auth .*users line 2 \(user "bob"\): crypt\(3\) hashes .* are not supported; write the password again with htpasswd -B/);
  });
});
