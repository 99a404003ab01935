import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, NODICORN_BIN, REPO_ROOT, request, runCleanups, startNodicorn, startProcess, tempDir, until } from '@nodicorn/testkit';

afterEach(runCleanups);

// Everything here runs on loopback; nginx and systemd-socket-activate are required (.ci/run installs them).
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const NGINX = has('nginx') ? 'nginx' : '/usr/sbin/nginx';

function deploy(args: string[]) {
  const r = spawnSync(process.execPath, [NODICORN_BIN, 'deploy', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function httpsGet(port: number, path: string, ca: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

const APP = `export const app = (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url, pid: process.pid, proto: req.headers['x-forwarded-proto'] ?? null,
    forwardedFor: req.headers['x-forwarded-for'] ?? null, forwardedHost: req.headers['x-forwarded-host'] ?? null,
    realIp: req.headers['x-real-ip'] ?? null, host: req.headers.host ?? null }));
};
`;

/** A stack dir with an app, a static dir and a stack file listening on the given ports. */
function makeStack(dir: string, httpsPort: number, httpPort: number, proxyExtra: Record<string, unknown> = {}): string {
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'public'));
  writeFileSync(join(dir, 'src/app.mjs'), APP);
  writeFileSync(join(dir, 'public/hello.txt'), 'static hello\n');
  writeFileSync(join(dir, 'public/.secret'), 'no');
  writeFileSync(join(dir, 'users'), 'staff:{PLAIN}letmein\n');
  const stack = {
    name: 'e2e',
    servers: { web: { app: 'src/app.mjs:app', workers: 1 } },
    proxy: {
      listen: [`https://127.0.0.1:${httpsPort}`, `http://127.0.0.1:${httpPort}`],
      routes: [
        { prefix: '/', upstream: 'web' },
        // Traffic control, so nginx -t checks every directive deploy writes for it.
        { prefix: '/limited', upstream: 'web', limitReq: { rate: '100r/s', burst: 10, nodelay: true, key: 'header:X-Api-Key', status: 429 }, limitConn: { max: 10, key: 'route' } },
        { prefix: '/delayed', upstream: 'web', limitReq: { rate: '30r/m', burst: 5, delay: 2 }, limitConn: { max: 2, status: 429 } },
        { prefix: '/private', upstream: 'web', allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['all'] },
        { prefix: '/staff', upstream: 'web', auth: { file: 'users', realm: 'Staff', forward: false } },
      ],
      static: ['/assets=public'],
      ...proxyExtra,
    },
  };
  writeFileSync(join(dir, 'nodicorn.stack.json'), JSON.stringify(stack));
  return join(dir, 'nodicorn.stack.json');
}

/** A self-signed certificate for localhost/127.0.0.1, made by openssl. */
function selfSigned(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/** Writes nginx.conf for the stack and prepares an nginx prefix (logs/, tmp/) beside it. */
function generate(dir: string, stackFile: string, tls: { cert: string; key: string }) {
  const out = join(dir, 'out');
  const run = join(dir, 'run');
  mkdirSync(run);
  const r = deploy(['nginx', '--stack', stackFile, '--out', out, '--run-dir', run, '--tls-cert', tls.cert, '--tls-key', tls.key, '--server-name', 'localhost']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'tmp'));
  return { conf: join(out, 'nginx.conf'), socket: join(run, 'web.sock') };
}

describe('nodicorn deploy: errors', () => {
  it('a missing stack file, a bad flag and an unwritable --out are one line each', () => {
    const dir = tempDir('ndc-d-');
    const missing = deploy(['nginx', '--stack', join(dir, 'nope.mjs'), '--out', join(dir, 'o')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^nodicorn deploy: error: Stack file .*nope\.mjs not found\..*\n$/);
    const bad = deploy(['nginx', '--stak', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^nodicorn deploy: error: nodicorn deploy: Unknown option '--stak'.*\n$/);
    const stackFile = makeStack(dir, 1, 2);
    writeFileSync(join(dir, 'file'), '');
    const unwritable = deploy(['nginx', '--stack', stackFile, '--out', join(dir, 'file', 'sub'), '--listen', 'http://127.0.0.1:8080']);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toMatch(/^nodicorn deploy: error: cannot write to --out .*file\/sub: ENOTDIR.*\n$/);
    const noCert = deploy(['nginx', '--stack', stackFile, '--out', join(dir, 'o')]);
    expect(noCert.code).toBe(2);
    expect(noCert.stderr).toMatch(/names no certificate/);
    for (const r of [missing, bad, unwritable, noCert]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(deploy(['--help']).stdout).toMatch(/^Usage: nodicorn deploy nginx\|systemd/);
  });
});

describe('nodicorn deploy nginx, for real', () => {
  it('the generated nginx.conf passes nginx -t, balancing methods, weights and backups included', async () => {
    const dir = tempDir('ndc-n-');
    const stackFile = makeStack(dir, await freePort(), await freePort(), {
      upstreams: {
        api: { balance: 'least_conn', servers: ['127.0.0.1:9001 weight=3', '127.0.0.1:9002 backup', { address: '127.0.0.1:9003', down: true }], healthCheck: { path: '/readyz' }, sticky: true },
        hashed: { balance: 'ip_hash', servers: ['127.0.0.1:9004', '127.0.0.1:9005'] },
      },
      routes: [{ prefix: '/api', upstream: 'api' }, { prefix: '/h', upstream: 'hashed' }, { prefix: '/', upstream: 'web' }],
    });
    const { conf } = generate(dir, stackFile, selfSigned(dir));
    const t = spawnSync(NGINX, ['-t', '-q', '-e', 'stderr', '-p', dir, '-c', conf], { encoding: 'utf8', timeout: 20_000 });
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
  });

  it('a stack with host blocks and TLS options renders an nginx.conf that passes nginx -t', async () => {
    const dir = tempDir('ndc-n-');
    const tls = selfSigned(dir);
    const stackFile = makeStack(dir, await freePort(), await freePort(), {
      tlsMinVersion: 'TLSv1.3',
      tlsCiphers: 'ECDHE+AESGCM',
      tlsCaCerts: tls.cert,
      tlsVerifyClient: 'optional',
      hosts: {
        'shop.example www.shop.example': { routes: [{ prefix: '/', upstream: 'web' }], tlsCert: tls.cert, tlsKey: tls.key },
        '*.blog.example': { static: ['/=public'], default: true },
      },
    });
    const { conf } = generate(dir, stackFile, tls);
    const t = spawnSync(NGINX, ['-t', '-q', '-e', 'stderr', '-p', dir, '-c', conf], { encoding: 'utf8', timeout: 20_000 });
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
    expect(readFileSync(conf, 'utf8')).toContain('server_name *.blog.example;');
  });

  it('nginx in front of nodicorn: TLS, the 308 redirect, static files and the forwarding headers', async () => {
    const dir = tempDir('ndc-n-');
    const [httpsPort, httpPort] = [await freePort(), await freePort()];
    const stackFile = makeStack(dir, httpsPort, httpPort);
    const tls = selfSigned(dir);
    const { conf, socket } = generate(dir, stackFile, tls);
    await startNodicorn(['-b', `unix:${socket}`, '--chdir', dir, '--control-socket', join(dir, 'ctl.sock'), 'src/app.mjs:app']);
    // As root, nginx's workers would become nobody and could not enter the 0700 temp dir.
    const nginx = startProcess(NGINX, ['-e', 'stderr', '-p', dir, '-c', conf, '-g', `daemon off;${process.getuid?.() === 0 ? ' user root;' : ''}`]);
    const ca = readFileSync(tls.cert, 'utf8');
    const res = await until(() => httpsGet(httpsPort, '/orders/7?x=1', ca).catch(() => null), 15_000, `nginx on ${httpsPort}`).catch((err: Error) => {
      throw new Error(`${err.message}\nnginx output:\n${nginx.output()}`);
    });
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body) as Record<string, string>;
    expect(seen).toMatchObject({ path: '/orders/7?x=1', proto: 'https', forwardedFor: '127.0.0.1', realIp: '127.0.0.1', forwardedHost: `127.0.0.1:${httpsPort}`, host: `127.0.0.1:${httpsPort}` });

    const redirect = await request({ url: `http://127.0.0.1:${httpPort}`, path: '/a/b?c=d' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe(`https://localhost:${httpsPort}/a/b?c=d`);

    const file = await httpsGet(httpsPort, '/assets/hello.txt', ca);
    expect(file.status).toBe(200);
    expect(file.body).toBe('static hello\n');
    expect(file.headers['content-type']).toMatch(/^text\/plain/);
    expect((await httpsGet(httpsPort, '/assets/.secret', ca)).status).toBe(404);
    expect((await httpsGet(httpsPort, '/assets', ca)).status).toBe(301);

    // The routes' traffic control, as nginx enforces what deploy wrote.
    expect((await httpsGet(httpsPort, '/private/x', ca)).status).toBe(403);
    const challenge = await httpsGet(httpsPort, '/staff', ca);
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toBe('Basic realm="Staff"');
    expect((await httpsGet(httpsPort, '/limited', ca)).status).toBe(200);
  });
});

describe('systemd socket activation, for real', () => {
  it('systemd-socket-activate hands nodicorn its socket; TERM stops it gracefully', async () => {
    const dir = tempDir('ndc-s-');
    writeFileSync(join(dir, 'app.mjs'), APP);
    const port = await freePort();
    const activator = startProcess('systemd-socket-activate', ['-l', `127.0.0.1:${port}`, process.execPath, NODICORN_BIN, '--chdir', dir, '--control-socket', join(dir, 'ctl.sock'), 'app.mjs:app'], { cwd: REPO_ROOT });
    await activator.waitFor(new RegExp(`Listening on 127\\.0\\.0\\.1:${port}`), 10_000);
    // The first connection execs nodicorn, which serves the inherited socket (fd 3) rather than binding.
    const res = await request({ url: `http://127.0.0.1:${port}`, path: '/activated' }, { timeoutMs: 20_000 });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ path: '/activated' });
    await activator.waitFor(/\[INFO\] Listening at: fd:\/\/3/, 5_000);
    expect(activator.output()).not.toMatch(/127\.0\.0\.1:8000/);
    activator.signal('SIGTERM');
    expect(await activator.exited(20_000)).toBe(0);
  });

  it('the generated units verify, and their ExecStart serves the .socket unit\'s socket with the generated config', async () => {
    const dir = tempDir('ndc-u-');
    const stackFile = makeStack(dir, 1, 2);
    const out = join(dir, 'out');
    const run = join(dir, 'run');
    const r = deploy(['systemd', '--stack', stackFile, '--out', out, '--run-dir', run, '--node', process.execPath, '--nodicorn', NODICORN_BIN, '--config-dir', out, '--user', 'root', '--socket-group', 'root']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    if (has('systemd-analyze')) {
      const units = ['e2e-web.socket', 'e2e-web.service', 'e2e-proxy.service', 'e2e.target'].map((u) => join(out, u));
      const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...units], { encoding: 'utf8', timeout: 20_000 });
      expect(verify.stderr).toBe('');
      expect(verify.status).toBe(0);
    }
    const socketUnit = readFileSync(join(out, 'e2e-web.socket'), 'utf8');
    const serviceUnit = readFileSync(join(out, 'e2e-web.service'), 'utf8');
    const listen = /^ListenStream=(.+)$/m.exec(socketUnit)![1]!;
    const exec = /^ExecStart=(.+)$/m.exec(serviceUnit)![1]!.split(' ');
    const cwd = /^WorkingDirectory=(.+)$/m.exec(serviceUnit)![1]!;
    expect(listen).toBe(join(run, 'web.sock'));
    // systemd's RuntimeDirectory= would create /run/e2e-web for the control socket; here it goes in the temp dir.
    const configFile = join(out, 'e2e-web.json');
    writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), controlSocket: join(dir, 'ctl.sock') }));
    mkdirSync(run);
    const activator = startProcess('systemd-socket-activate', ['-l', listen, ...exec], { cwd });
    await activator.waitFor(/Listening on /, 10_000);
    const res = await request({ socketPath: listen, path: '/via-units' }, { timeoutMs: 20_000 });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ path: '/via-units' });
    expect(activator.output()).toMatch(/\[INFO\] Listening at: fd:\/\/3/);
    activator.signal('SIGTERM');
    expect(await activator.exited(20_000)).toBe(0);
  });
});

describe('nodicorn deploy docker, its configs run as the image would run them', () => {
  it("the server's container config serves with WEB_CONCURRENCY workers, answers /readyz, and stops on TERM with exit 0", async () => {
    const dir = tempDir('ndc-docker-');
    writeFileSync(join(dir, 'app.mjs'), APP);
    writeFileSync(join(dir, 'nodicorn.stack.mjs'), `export default { name: 'box', servers: { web: { app: 'app.mjs:app', workers: 2 } }, proxy: { listen: ['http://127.0.0.1:8080'] } };`);
    const r = deploy(['docker', '--stack', join(dir, 'nodicorn.stack.mjs'), '--out', join(dir, 'deploy')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/build: docker build -f deploy\/Dockerfile -t box:latest /);
    for (const file of ['Dockerfile', '.dockerignore', 'box-web.json', 'box-proxy.json']) expect(readFileSync(join(dir, 'deploy', file), 'utf8').length).toBeGreaterThan(0);
    // The image's CMD is `nodicorn -c /etc/nodicorn/box-web.json` in /app; here the app is in dir and
    // the fixed ports become ephemeral ones: everything else comes from the generated file.
    const server = await startNodicorn(['-c', join(dir, 'deploy', 'box-web.json'), '--chdir', dir, '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0'], {
      env: { ...process.env, WEB_CONCURRENCY: '3' },
    });
    expect(server.output()).toMatch(/Ready: 3 worker\(s\) serving/);
    expect((await request({ url: server.url })).status).toBe(200);
    const [, health] = /Metrics at: http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(server.output())!;
    expect((await request({ url: `http://127.0.0.1:${health}`, path: '/readyz' })).status).toBe(200);
    server.signal('SIGTERM');
    expect(await server.exited(15_000)).toBe(0);
  });
});
