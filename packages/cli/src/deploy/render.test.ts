import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStack } from '../stack/stack-file.js';
import { renderNginxConf, renderNginxSite } from './nginx.js';
import { DEPLOY_ERROR_CODES, DeployError, parseDeployArgs } from './options.js';
import { planDeploy } from './plan.js';
import { renderSystemd, serverConfig, systemdOptions } from './systemd.js';

const dir = mkdtempSync(join(tmpdir(), 'ndc-r-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'public'));

async function stackOf(spec: object, name = `s${Math.random().toString(36).slice(2, 8)}.json`) {
  writeFileSync(join(dir, name), JSON.stringify(spec));
  return loadStack(join(dir, name));
}

const SHOP = {
  name: 'shop',
  servers: {
    web: { app: 'src/app.mjs:app', workers: 2, gracefulTimeout: 20, keepalive: 4, accesslog: 'logs/web.access.log', user: 'nobody', reload: true },
    api: { app: 'src/api.mjs:app', backlog: 512 },
  },
  proxy: {
    listen: ['https://0.0.0.0:443', 'http://0.0.0.0:80'],
    serverName: ['shop.example'],
    hsts: true,
    maxBody: '10m',
    routes: [
      { prefix: '/api', upstream: 'api' },
      { prefix: '/', upstream: 'web' },
    ],
    static: ['/assets=public'],
  },
};

const options = (argv: string[]) => parseDeployArgs(argv);

describe('parseDeployArgs', () => {
  it('takes the target and the flags', () => {
    const o = options(['systemd', '--stack', 'a.mjs', '--out', 'o', '--run-dir', '/run/x/', '--server-name', 'a.example', '--server-name', 'b.example']);
    expect(o).toMatchObject({ target: 'systemd', stack: 'a.mjs', out: 'o', runDir: '/run/x', serverNames: ['a.example', 'b.example'], socketMode: '0660' });
  });

  it.each([
    [[], /name a target/],
    [['apache', '--stack', 'a', '--out', 'o'], /unknown target "apache"/],
    [['nginx', '--out', 'o'], /--stack FILE is required/],
    [['nginx', '--stack', 'a'], /--out DIR is required/],
    [['nginx', '--stack', 'a', '--out', 'o', '--bogus'], /Unknown option '--bogus'/],
    [['nginx', '--stack', 'a', '--out', 'o', '--tls-cert', '/c'], /--tls-cert and --tls-key go together/],
    [['nginx', '--stack', 'a', '--out', 'o', '--run-dir', 'run'], /--run-dir must be an absolute path/],
    [['systemd', '--stack', 'a', '--out', 'o', '--socket-mode', '999'], /--socket-mode must be an octal mode/],
    [['systemd', '--stack', 'a', '--out', 'o', '--user', 'bad user'], /--user "bad user"/],
  ])('%j is a usage error', (argv, message) => {
    let caught: unknown;
    try {
      options(argv as string[]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DeployError);
    expect((caught as DeployError).exitCode).toBe(2);
    expect((caught as DeployError).message).toMatch(message);
    expect((caught as DeployError).message).not.toContain('\n');
  });
});

describe('planDeploy', () => {
  it('moves sockets into the run dir and the code under the prefix', async () => {
    const stack = await stackOf(SHOP);
    const plan = planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--prefix', '/srv/shop']));
    expect(plan.runDir).toBe('/run/shop');
    expect(plan.servers.map((s) => [s.name, s.unit, s.socket])).toEqual([
      ['web', 'shop-web', '/run/shop/web.sock'],
      ['api', 'shop-api', '/run/shop/api.sock'],
    ]);
    const web = plan.servers[0]!;
    expect(web.config.bind).toEqual(['unix:/run/shop/web.sock']);
    expect(web.config.chdir).toBe('/srv/shop');
    expect(web.config.accesslog).toBe('/srv/shop/logs/web.access.log');
    expect(plan.proxy!.statics).toEqual([{ prefix: '/assets', dir: '/srv/shop/public' }]);
    expect(plan.proxy!.maxBody).toBe(10 * 1024 * 1024);
    expect((plan.proxy!.config.upstreams as Record<string, string[]>).api).toEqual(['unix:/run/shop/api.sock']);
  });

  it('gives a one-server stack without a proxy a route at /', async () => {
    const stack = await stackOf({ name: 'solo', servers: { app: { app: 'a.mjs' } } });
    const plan = planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--run-dir', '/run/solo2']));
    expect(plan.proxy).toMatchObject({ routes: [{ prefix: '/', server: 'app' }], fromStack: false });
    expect(renderNginxSite(plan)).toContain('server unix:/run/solo2/app.sock fail_timeout=0;');
  });
});

describe('renderNginxSite', () => {
  it("a stack that spans hosts: the proxy's upstreams on other machines get their own upstream block, with the passive health the proxy uses", async () => {
    const stack = await stackOf({
      name: 'wide',
      servers: { web: { app: 'src/app.mjs:app' } },
      proxy: { upstreams: { api: ['10.0.0.5:8000', '10.0.0.6:8000'] }, maxFails: 3, failTimeout: 20, routes: [{ prefix: '/api', upstream: 'api' }, { prefix: '/', upstream: 'web' }] },
    });
    const plan = planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--listen', 'http://0.0.0.0:80']));
    expect(plan.proxy!.remotes.map((r) => [r.name, r.upstream.servers.map((s) => s.address.label)])).toEqual([['api', ['10.0.0.5:8000', '10.0.0.6:8000']]]);
    const site = renderNginxSite(plan);
    expect(site).toContain('upstream wide-api {\n    server 10.0.0.5:8000 max_fails=3 fail_timeout=20s;\n    server 10.0.0.6:8000 max_fails=3 fail_timeout=20s;');
    expect(site).toMatch(/location \^~ \/api\/ \{\n\s+proxy_pass http:\/\/wide-api;/);
    expect(site).toMatch(/location \/ \{\n\s+proxy_pass http:\/\/wide-web;/);
    await expect(stackOf({ name: 'bad', servers: { web: { app: 'a.mjs:app' } }, proxy: { routes: [{ prefix: '/x', upstream: 'nowhere' }] } })).rejects.toThrow(/goes to "nowhere", which is neither a server here nor one of the proxy's upstreams \(web\)/);
    const badAddress = await stackOf({ name: 'bad2', servers: { web: { app: 'a.mjs:app' } }, proxy: { upstreams: { api: ['http://10.0.0.5'] }, routes: [{ prefix: '/', upstream: 'api' }] } });
    expect(() => planDeploy(badAddress, options(['nginx', '--stack', 'x', '--out', 'o']))).toThrow(/Invalid proxy\.upstreams\.api\[0\] \(\S+\): expected unix:PATH or HOST:PORT, got "http:\/\/10\.0\.0\.5"/);
  });

  it("renders the proxy's balancing, weights, backups and down servers as nginx's, and says what only nginx Plus has", async () => {
    const stack = await stackOf({
      name: 'lb',
      servers: { web: { app: 'src/app.mjs:app' } },
      proxy: {
        upstreams: {
          api: { balance: 'least_conn', servers: ['10.0.0.5:8000 weight=3', { address: '10.0.0.6:8000', maxFails: 1, failTimeout: 30 }, '10.0.0.7:8000 backup', '10.0.0.8:8000 down'], healthCheck: { path: '/readyz', interval: 2, rise: 2, fall: 3, port: 9100 }, sticky: { cookie: 'srv', maxAge: 600 } },
          hashed: { balance: 'ip_hash', servers: ['10.0.1.5:8000', '10.0.1.6:8000'] },
        },
        routes: [{ prefix: '/api', upstream: 'api' }, { prefix: '/h', upstream: 'hashed' }, { prefix: '/', upstream: 'web' }],
      },
    });
    const site = renderNginxSite(planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--listen', 'http://0.0.0.0:80'])));
    expect(site).toContain([
      'upstream lb-api {',
      '    least_conn;',
      '    server 10.0.0.5:8000 weight=3 max_fails=1 fail_timeout=10s;',
      '    server 10.0.0.6:8000 max_fails=1 fail_timeout=30s;',
      '    server 10.0.0.7:8000 max_fails=1 fail_timeout=10s backup;',
      '    server 10.0.0.8:8000 max_fails=1 fail_timeout=10s down;',
      '    keepalive 32;',
    ].join('\n'));
    expect(site).toMatch(/# Open-source nginx has none \(nginx Plus: `health_check uri=\/readyz interval=2 passes=2 fails=3;`/);
    expect(site).toContain('nginx Plus `sticky cookie srv expires=600s;`');
    expect(site).toContain('upstream lb-hashed {\n    ip_hash;\n    server 10.0.1.5:8000');
    const bad = await stackOf({ name: 'bad3', servers: { web: { app: 'a.mjs:app' } }, proxy: { upstreams: { api: { servers: ['10.0.0.5:8000'], balanse: 'least_conn' } }, routes: [{ prefix: '/', upstream: 'api' }] } });
    expect(() => planDeploy(bad, options(['nginx', '--stack', 'x', '--out', 'o']))).toThrow(/proxy\.upstreams\.api\.balanse is not a key of an upstream; did you mean balance\?/);
  });

  it("renders each route's limits, allow/deny and auth as nginx directives, and keeps them in the proxy's config", async () => {
    writeFileSync(join(dir, 'staff.htpasswd'), 'staff:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n');
    const stack = await stackOf({
      name: 'guarded',
      servers: { web: { app: 'src/app.mjs:app' } },
      proxy: {
        routes: [
          { prefix: '/', upstream: 'web', limitConn: { max: 100 } },
          { prefix: '/api', upstream: 'web', limitReq: { rate: '5r/s', burst: 10, nodelay: true, key: 'header:X-Api-Key', status: 429 }, limitConn: { max: 4, key: 'route', status: 429 } },
          { prefix: '/slow', upstream: 'web', limitReq: { rate: '30r/m', burst: 6, delay: 2 } },
          { prefix: '/admin', upstream: 'web', access: [{ deny: '10.0.0.5' }, { allow: ['10.0.0.0/8', '2001:db8::/32'] }, { deny: 'all' }] },
          { prefix: '/staff', upstream: 'web', allow: ['192.168.0.0/16'], deny: ['all'], auth: { file: 'staff.htpasswd', realm: 'Staff only', forward: false } },
        ],
      },
    });
    const plan = planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--prefix', '/srv/g', '--listen', 'http://0.0.0.0:80']));
    const site = renderNginxSite(plan);
    expect(site).toContain('limit_req_zone $http_x_api_key zone=guarded_req_api:10m rate=5r/s;');
    expect(site).toContain('limit_req_zone $binary_remote_addr zone=guarded_req_slow:10m rate=30r/m;');
    expect(site).toContain('limit_conn_zone $server_name zone=guarded_conn_api:10m;');
    expect(site).toContain('limit_conn_zone $binary_remote_addr zone=guarded_conn_root:10m;');
    expect(site).toContain('location ^~ /api/ {\n        limit_req zone=guarded_req_api burst=10 nodelay;\n        limit_req_status 429;\n        limit_conn guarded_conn_api 4;\n        limit_conn_status 429;\n        proxy_pass http://guarded-web;');
    expect(site).toContain('location = /api {\n        limit_req zone=guarded_req_api burst=10 nodelay;');
    expect(site).toContain('limit_req zone=guarded_req_slow burst=6 delay=2;\n        limit_req_status 503;');
    expect(site).toContain('location ^~ /admin/ {\n        deny 10.0.0.5;\n        allow 10.0.0.0/8;\n        allow 2001:db8::/32;\n        deny all;\n        proxy_pass');
    // The htpasswd file moves with the prefix; forward: false drops Authorization, repeating the other headers.
    expect(site).toContain('allow 192.168.0.0/16;\n        deny all;\n        auth_basic "Staff only";\n        auth_basic_user_file /srv/g/staff.htpasswd;');
    const staff = site.slice(site.indexOf('location ^~ /staff/'));
    expect(staff.slice(0, staff.indexOf('}'))).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;[\s\S]*proxy_set_header Authorization "";\n\s+proxy_pass/);
    // Zones are declared once, however many locations use them.
    expect(site.match(/zone=guarded_req_api:/g)).toHaveLength(1);
    const proxyRoutes = plan.proxy!.config.routes as Record<string, unknown>[];
    expect(proxyRoutes.find((r) => r.prefix === '/api')).toMatchObject({ limitReq: { rate: '5r/s', burst: 10 }, limitConn: { max: 4 } });
    expect(proxyRoutes.find((r) => r.prefix === '/staff')).toMatchObject({ allow: ['192.168.0.0/16'], auth: { file: '/srv/g/staff.htpasswd', realm: 'Staff only', forward: false } });
    const bad = await stackOf({ name: 'bad3', servers: { web: { app: 'a.mjs:app' } }, proxy: { routes: [{ prefix: '/', upstream: 'web', limitReq: { rate: '5r/s', brust: 1 } }] } });
    expect(() => planDeploy(bad, options(['nginx', '--stack', 'x', '--out', 'o']))).toThrow(/routes\[0\]\.limitReq\.brust is not a key of limitReq; did you mean burst\?/);
  });

  it('has an upstream per socket, TLS, the redirect, the forwarding headers and every location', async () => {
    const stack = await stackOf(SHOP);
    const plan = planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--prefix', '/srv/shop', '--tls-cert', '/etc/ssl/shop.pem', '--tls-key', '/etc/ssl/shop.key']));
    const site = renderNginxSite(plan);
    expect(site).toContain('upstream shop-web {\n    server unix:/run/shop/web.sock fail_timeout=0;\n    keepalive 32;\n    keepalive_timeout 2s;\n}');
    expect(site).toContain('upstream shop-api {\n    server unix:/run/shop/api.sock fail_timeout=0;\n    keepalive 32;\n    keepalive_timeout 1s;\n}');
    expect(site).toMatch(/map \$http_upgrade \$shop_connection_upgrade \{\n {4}default upgrade;\n {4}'' {6}'';\n\}/);
    expect(site).toContain('listen 80;\n    server_name shop.example;\n    # 308 keeps the method and body (301 may turn POST into GET).\n    return 308 https://shop.example$request_uri;');
    expect(site).toContain('listen 443 ssl http2;');
    expect(site).toContain('ssl_certificate /etc/ssl/shop.pem;');
    expect(site).toContain('ssl_certificate_key /etc/ssl/shop.key;');
    expect(site).toContain('Strict-Transport-Security');
    for (const header of ['Host $shop_forwarded_host', 'X-Forwarded-For $remote_addr', 'X-Forwarded-Proto $scheme', 'X-Forwarded-Host $shop_forwarded_host', 'X-Real-IP $remote_addr', 'Connection $shop_connection_upgrade', 'Upgrade $http_upgrade']) {
      expect(site).toContain(`proxy_set_header ${header};`);
    }
    expect(site).toContain('proxy_http_version 1.1;');
    expect(site).toContain('client_max_body_size 10m;');
    expect(site).toContain('proxy_read_timeout 60s;');
    expect(site).toContain('location ^~ /api/ {\n        proxy_pass http://shop-api;');
    expect(site).toContain('location = /api {\n        proxy_pass http://shop-api;');
    expect(site).toContain('location / {\n        proxy_pass http://shop-web;');
    expect(site).toContain('location ^~ /assets/ {\n        alias /srv/shop/public/;');
    // Longest prefix first, so a reader sees the order the proxy matches in.
    expect(site.indexOf('location ^~ /assets/')).toBeLessThan(site.indexOf('location ^~ /api/'));
  });

  it('writes gzip directives only when the stack turns compression on, with the proxy\'s defaults', async () => {
    const off = renderNginxSite(planDeploy(await stackOf(SHOP), options(['nginx', '--stack', 'x', '--out', 'o', '--tls-cert', '/c', '--tls-key', '/k'])));
    expect(off).not.toContain('gzip on;');
    const on = renderNginxSite(planDeploy(await stackOf({ ...SHOP, proxy: { ...SHOP.proxy, gzip: true } }), options(['nginx', '--stack', 'x', '--out', 'o', '--tls-cert', '/c', '--tls-key', '/k'])));
    expect(on).toContain('    gzip on;\n    gzip_comp_level 1;\n    gzip_min_length 256;\n    gzip_types text/plain text/css');
    expect(on).toContain(' application/json ');
    expect(on).not.toMatch(/gzip_types[^;]*(text\/\*|text\/html)/);
    expect(on).toContain('gzip_vary on;');
    const custom = renderNginxSite(planDeploy(await stackOf({ ...SHOP, proxy: { ...SHOP.proxy, gzip: 'on', gzipTypes: ['application/json', 'image/svg+xml'], gzipMinLength: '1k', gzipCompLevel: 5 } }), options(['nginx', '--stack', 'x', '--out', 'o', '--tls-cert', '/c', '--tls-key', '/k'])));
    expect(custom).toContain('gzip_comp_level 5;\n    gzip_min_length 1024;\n    gzip_types application/json image/svg+xml;');
    await expect(async () => planDeploy(await stackOf({ ...SHOP, proxy: { ...SHOP.proxy, gzip: 'maybe' } }), options(['nginx', '--stack', 'x', '--out', 'o']))).rejects.toThrow(/gzip: expected on or off/);
  });

  it('renders host blocks as server blocks of their own: server_name, certificate, routes, default_server', async () => {
    mkdirSync(join(dir, 'blog'), { recursive: true });
    const spec = {
      ...SHOP,
      proxy: {
        ...SHOP.proxy,
        hosts: {
          'api.shop.example': { routes: [{ prefix: '/', upstream: 'api' }], tlsCert: 'certs/api.pem', tlsKey: 'certs/api.key' },
          '*.blog.example .docs.example': { static: ['/=blog'] },
        },
      },
    };
    const plan = planDeploy(await stackOf(spec), options(['nginx', '--stack', 'x', '--out', 'o', '--prefix', '/srv/shop', '--tls-cert', '/etc/ssl/shop.pem', '--tls-key', '/etc/ssl/shop.key']));
    expect(plan.proxy!.hosts.map((h) => h.names)).toEqual([['api.shop.example'], ['*.blog.example', '.docs.example']]);
    expect((plan.proxy!.config.hosts as Record<string, { tlsCert?: string; static?: { dir: string }[] }>)['api.shop.example']!.tlsCert).toBe('/srv/shop/certs/api.pem');
    const site = renderNginxSite(plan);
    const blocks = site.split(/\n(?=server \{)/).filter((b) => b.startsWith('server {'));
    const find = (name: string) => blocks.filter((b) => b.includes(`server_name ${name};`) && b.includes('ssl_certificate'));
    expect(blocks.filter((b) => b.includes('return 308'))).toHaveLength(3);
    expect(site).toContain('server_name api.shop.example;\n    return 308 https://$host$request_uri;');
    const [top] = find('shop.example');
    expect(top).toContain('listen 443 ssl http2 default_server;');
    expect(top).toContain('ssl_certificate /etc/ssl/shop.pem;');
    expect(top).toContain('location / {\n        proxy_pass http://shop-web;');
    const [api] = find('api.shop.example');
    expect(api).toContain('listen 443 ssl http2;');
    expect(api).toContain('ssl_certificate /srv/shop/certs/api.pem;\n    ssl_certificate_key /srv/shop/certs/api.key;');
    expect(api).toContain('location / {\n        proxy_pass http://shop-api;');
    expect(api).not.toContain('shop-web');
    const [blog] = find('*.blog.example .docs.example');
    expect(blog).toContain('ssl_certificate /etc/ssl/shop.pem;');
    expect(blog).toContain('root /srv/shop/blog;');

    // A host marked default takes default_server from the top level.
    spec.proxy.hosts['api.shop.example'] = { ...spec.proxy.hosts['api.shop.example'], default: true } as never;
    const marked = renderNginxSite(planDeploy(await stackOf(spec), options(['nginx', '--stack', 'x', '--out', 'o', '--tls-cert', '/c', '--tls-key', '/k'])));
    expect(marked.match(/default_server/g)).toHaveLength(1);
    expect(marked).toMatch(/listen 443 ssl http2 default_server;\n {4}server_name api\.shop\.example;/);
  });

  it("renders the listeners' TLS options: protocols, ciphers, client verification and its headers", async () => {
    const plain = renderNginxSite(planDeploy(await stackOf(SHOP), options(['nginx', '--stack', 'x', '--out', 'o', '--tls-cert', '/c', '--tls-key', '/k'])));
    expect(plain).toContain('ssl_protocols TLSv1.2 TLSv1.3;');
    expect(plain).not.toContain('ssl_verify_client');
    // Client copies are cleared even without verification, as the proxy drops them.
    expect(plain).toContain('proxy_set_header X-SSL-Client-Verify "";');
    const spec = { ...SHOP, proxy: { ...SHOP.proxy, tlsMinVersion: 'TLSv1.3', tlsCiphers: 'ECDHE+AESGCM', tlsCaCerts: 'certs/clients-ca.pem', tlsVerifyClient: 'optional' } };
    const plan = planDeploy(await stackOf(spec), options(['nginx', '--stack', 'x', '--out', 'o', '--prefix', '/srv/shop', '--tls-cert', '/c', '--tls-key', '/k']));
    expect(plan.proxy!.config.tlsCaCerts).toBe('/srv/shop/certs/clients-ca.pem');
    const site = renderNginxSite(plan);
    expect(site).toContain('ssl_protocols TLSv1.3;\n    ssl_ciphers ECDHE+AESGCM;\n    ssl_client_certificate /srv/shop/certs/clients-ca.pem;\n    ssl_verify_client optional;');
    expect(site).toContain('proxy_set_header X-SSL-Client-Verify $ssl_client_verify;\n    proxy_set_header X-SSL-Client-S-DN $ssl_client_s_dn;');
    await expect(async () => planDeploy(await stackOf({ ...SHOP, proxy: { ...SHOP.proxy, tlsVerifyClient: 'maybe' } }), options(['nginx', '--stack', 'x', '--out', 'o']))).rejects.toThrow(/tlsVerifyClient: expected one of off, optional, on/);
  });

  it('keeps a port that is not 443 in the redirect and needs a certificate for https', async () => {
    const stack = await stackOf({ ...SHOP, proxy: { ...SHOP.proxy, serverName: undefined, listen: ['https://127.0.0.1:8443', 'http://127.0.0.1:8080'] } });
    expect(() => planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o']))).not.toThrow();
    expect(() => renderNginxSite(planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o'])))).toThrow(/names no certificate; give --tls-cert/);
    const site = renderNginxSite(planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--tls-cert', '/c', '--tls-key', '/k'])));
    expect(site).toContain('return 308 https://$host:8443$request_uri;');
    expect(site).toContain('server_name _;');
  });

  it('--listen replaces the stack listeners; keep-alive 0 has no upstream keepalive', async () => {
    const stack = await stackOf({ name: 'plain', servers: { web: { app: 'a.mjs', keepalive: 0 } }, proxy: { listen: 'https://0.0.0.0:443', routes: [{ prefix: '/', upstream: 'web' }] } });
    const site = renderNginxSite(planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--listen', 'http://[::1]:8081'])));
    expect(site).toContain('listen [::1]:8081;');
    expect(site).not.toContain('ssl');
    expect(site).not.toContain('keepalive 32');
    expect(site).not.toContain('return 308');
  });

  it('wraps the site in a complete config with paths under the nginx prefix', async () => {
    const conf = renderNginxConf(planDeploy(await stackOf(SHOP), options(['nginx', '--stack', 'x', '--out', 'o', '--listen', 'http://127.0.0.1:80'])));
    expect(conf).toMatch(/^events \{/m);
    expect(conf).toMatch(/^http \{/m);
    expect(conf).toContain('pid nginx.pid;');
    expect(conf).toContain('client_body_temp_path tmp/client_body;');
    expect(conf).toContain('        server unix:/run/shop/web.sock fail_timeout=0;');
  });

  it('renders the demo stack shape: static files at /, routes written with a trailing slash', async () => {
    const stack = await stackOf({
      name: 'demo',
      servers: { express: { app: 'e.mjs' }, koa: { app: 'k.mjs' } },
      proxy: {
        listen: ['http://localhost:8080'],
        static: [{ prefix: '/', dir: join(dir, 'public') }],
        routes: [{ prefix: '/express/', upstream: 'express' }, { prefix: '/koa/', upstream: 'koa' }, { prefix: '/ws', upstream: 'express' }],
      },
    });
    const site = renderNginxSite(planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o', '--prefix', '/srv/demo'])));
    expect(site).toContain('location ^~ /express/ {\n        proxy_pass http://demo-express;');
    expect(site).toContain('location = /ws {\n        proxy_pass http://demo-express;');
    expect(site).toContain('location / {\n        root /srv/demo/public;');
    expect(site).toContain('listen localhost:8080;');
  });

  it('refuses a multi-server stack without routes', async () => {
    const stack = await stackOf({ name: 'two', servers: { a: { app: 'a.mjs' }, b: { app: 'b.mjs' } } });
    expect(() => renderNginxSite(planDeploy(stack, options(['nginx', '--stack', 'x', '--out', 'o'])))).toThrow(/no proxy; add proxy: \{ routes/);
  });
});

describe('renderSystemd', () => {
  it('writes a socket-activated pair per server, the proxy, a target and INSTALL.md', async () => {
    const stack = await stackOf(SHOP);
    const o = options(['systemd', '--stack', 'x', '--out', 'o', '--prefix', '/srv/shop', '--group', 'shop']);
    const plan = planDeploy(stack, o);
    const files = Object.fromEntries(renderSystemd(plan, systemdOptions(plan, o)).map((f) => [f.name, f.text]));
    expect(Object.keys(files).sort()).toEqual(
      ['INSTALL.md', 'shop-api.json', 'shop-api.service', 'shop-api.socket', 'shop-proxy.json', 'shop-proxy.service', 'shop-web.json', 'shop-web.service', 'shop-web.socket', 'shop.target'].sort(),
    );
    const socket = files['shop-web.socket']!;
    expect(socket).toContain('ListenStream=/run/shop/web.sock');
    expect(socket).toContain('SocketUser=nobody');
    expect(socket).toContain('SocketGroup=www-data');
    expect(socket).toContain('SocketMode=0660');
    expect(files['shop-api.socket']).toContain('Backlog=512');
    const service = files['shop-web.service']!;
    for (const line of [
      'Requires=shop-web.socket',
      'User=nobody',
      'Group=shop',
      'ExecStart=/usr/bin/node /srv/shop/node_modules/@nodicorn/cli/bin/nodicorn.js -c /etc/nodicorn/shop-web.json',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'KillMode=mixed',
      'KillSignal=SIGTERM',
      'TimeoutStopSec=30',
      'Restart=on-failure',
      'RestartPreventExitStatus=2 3 4',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/srv/shop/logs',
      'WorkingDirectory=/srv/shop',
      'RuntimeDirectory=shop-web',
    ]) {
      expect(service.split('\n')).toContain(line);
    }
    expect(files['shop-api.service']).toContain('TimeoutStopSec=40');
    expect(files['shop-api.service']).not.toContain('ReadWritePaths');
    const config = JSON.parse(files['shop-web.json']!) as Record<string, unknown>;
    expect(config).toMatchObject({ app: 'src/app.mjs:app', workers: 2, bind: ['unix:/run/shop/web.sock'], controlSocket: '/run/shop-web/control.sock', chdir: '/srv/shop' });
    expect(config).not.toHaveProperty('user');
    expect(config).not.toHaveProperty('reload');
    expect(files['shop-proxy.service']).toContain('ExecStart=/usr/bin/node /srv/shop/node_modules/@nodicorn/cli/bin/nodicorn.js proxy -c /etc/nodicorn/shop-proxy.json');
    expect(files['shop-proxy.service']).toContain('AmbientCapabilities=CAP_NET_BIND_SERVICE');
    expect(JSON.parse(files['shop-proxy.json']!)).toMatchObject({ upstreams: { web: ['unix:/run/shop/web.sock'] }, static: [{ prefix: '/assets', dir: '/srv/shop/public' }] });
    expect(files['shop.target']).toContain('Wants=shop-web.socket shop-api.socket shop-proxy.service');
    expect(files['INSTALL.md']).toContain('systemctl enable --now shop.target shop-web.socket shop-api.socket');
    expect(files['INSTALL.md']).toContain('systemctl reload shop-web.service');
    expect(files['INSTALL.md']).toContain('nodicorn status --control-socket /run/shop-web/control.sock');
  });

  it('keeps code under /home readable and quotes ExecStart words', async () => {
    const stack = await stackOf({ name: 'home', servers: { web: { app: 'a.mjs' } } });
    const o = options(['systemd', '--stack', 'x', '--out', 'o', '--prefix', '/home/me/app', '--nodicorn', '/home/me/my app/nodicorn.js']);
    const plan = planDeploy(stack, o);
    const files = renderSystemd(plan, systemdOptions(plan, o));
    const service = files.find((f) => f.name === 'home-web.service')!.text;
    expect(service).toContain('ProtectHome=read-only');
    expect(service).toContain('ExecStart=/usr/bin/node "/home/me/my app/nodicorn.js" -c /etc/nodicorn/home-web.json');
    expect(serverConfig(plan.servers[0]!)).toMatchObject({ chdir: '/home/me/app' });
    expect(files.some((f) => f.name === 'home-proxy.service')).toBe(false);
  });
});

describe('docs', () => {
  it('docs/deployment.md documents every deploy error code', () => {
    const doc = readFileSync(new URL('../../../../docs/deployment.md', import.meta.url), 'utf8');
    for (const code of Object.keys(DEPLOY_ERROR_CODES)) expect(doc).toContain(`\`${code}\``);
  });
});
