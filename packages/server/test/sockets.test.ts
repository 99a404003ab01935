import { spawnSync } from 'node:child_process';
import { renameSync, readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, childPids, onCleanup, request, runCleanups, startNodicorn, startProcess, until } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

/**
 * A bound, not yet listening TCP socket in this process, to hand to nodicorn as an inherited
 * descriptor (as systemd does). Bound only, so this test process never accepts on it itself.
 */
function boundSocket(): { fd: number; port: number } {
  const create = (net as unknown as { _createServerHandle: (a: string, p: number, t: number) => { fd: number; close(): void; getsockname(o: object): void } })._createServerHandle;
  const handle = create('127.0.0.1', 0, 4);
  const address: { port?: number } = {};
  handle.getsockname(address);
  onCleanup(() => handle.close());
  return { fd: handle.fd, port: address.port! };
}

describe('nodicorn APP: sockets', () => {
  it('serves on IPv6 loopback', async () => {
    const dir = appDir();
    const server = await startNodicorn(['--chdir', dir, '-b', '[::1]:0', 'app.mjs:app']);
    expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await request({ url: server.url })).status).toBe(200);
  });

  it('binds a host name on every address it resolves to (-b localhost:0), as Gunicorn users write it', async () => {
    const dir = appDir();
    const server = await startNodicorn(['--chdir', dir, '-b', 'localhost:0', 'app.mjs:app']);
    const listening = [...server.output().matchAll(/Listening at: (http:\/\/\S+)/g)].map((m) => m[1]);
    expect(listening.length).toBeGreaterThanOrEqual(1);
    for (const url of listening) expect((await request({ url: url! })).status).toBe(200);
  });

  it('--check-config fails on every bind nodicorn would fail on: an unknown name, a port in use', async () => {
    const dir = appDir();
    const run = (bind: string) => spawnSync(process.execPath, [NODICORN_BIN, '--chdir', dir, '--check-config', '-b', bind, 'app.mjs:app'], { encoding: 'utf8' });
    expect(run('localhost:0').status).toBe(0);
    const unknown = run('no-such-host.invalid:8000');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/does not resolve/);
    const busy = net.createServer().listen(0, '127.0.0.1');
    onCleanup(() => busy.close());
    await new Promise((resolve) => busy.once('listening', resolve));
    const taken = run(`127.0.0.1:${(busy.address() as net.AddressInfo).port}`);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toMatch(/EADDRINUSE/);
  });

  it('serves an inherited descriptor given as fd://N', async () => {
    const dir = appDir();
    const { fd, port } = boundSocket();
    const proc = startProcess(process.execPath, [NODICORN_BIN, '--chdir', dir, '-b', 'fd://3', 'app.mjs:app'], { stdio: ['ignore', 'pipe', 'pipe', fd] });
    await proc.waitFor(/Ready: .*fd:\/\/3/);
    expect((await request({ url: `http://127.0.0.1:${port}` })).status).toBe(200);
  });

  it('uses systemd socket activation (LISTEN_FDS/LISTEN_PID) instead of --bind', async () => {
    const dir = appDir();
    const { fd, port } = boundSocket();
    // LISTEN_PID must be nodicorn's own pid: `exec` keeps the shell's.
    const proc = startProcess('/bin/sh', ['-c', `LISTEN_PID=$$ LISTEN_FDS=1 exec "${process.execPath}" "${NODICORN_BIN}" --chdir "${dir}" app.mjs:app`], { stdio: ['ignore', 'pipe', 'pipe', fd] });
    await proc.waitFor(/Ready: 1 worker\(s\) serving fd:\/\/3/);
    const res = await request({ url: `http://127.0.0.1:${port}`, path: '/env?name=LISTEN_FDS' });
    expect(res.body).toBe(''); // workers do not see the master's activation variables
  });

  it.skipIf(spawnSync('openssl', ['version']).error !== undefined)('serves HTTPS from the workers with --certfile/--keyfile', async () => {
    const dir = appDir();
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1']);
    expect(made.status).toBe(0);
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '--certfile', join(dir, 'cert.pem'), '--keyfile', join(dir, 'key.pem'), 'app.mjs:app']);
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: server.port, path: '/', ca: readFileSync(join(dir, 'cert.pem')) }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(childPids(server.pid)).toContain(Number(body));
  });

  it('reopens log files on USR1, as logrotate expects', async () => {
    const dir = appDir();
    const access = join(dir, 'access.log');
    const errors = join(dir, 'error.log');
    const proc = startProcess(process.execPath, [NODICORN_BIN, '--chdir', dir, '-b', '127.0.0.1:0', '--access-logfile', access, '--error-logfile', errors, 'app.mjs:app']);
    await until(() => /Ready: .*http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(errors, 'utf8')), 10_000, 'ready in the error log');
    const port = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(errors, 'utf8'))![1];
    await request({ url: `http://127.0.0.1:${port}`, path: '/before' });
    await until(() => readFileSync(access, 'utf8').includes('/before'), 15_000, 'the first access line');
    renameSync(access, `${access}.1`);
    renameSync(errors, `${errors}.1`);
    proc.signal('SIGUSR1');
    await until(() => {
      try {
        return readFileSync(errors, 'utf8').includes('SIGUSR1: log files reopened');
      } catch {
        return false;
      }
    }, 15_000, 'a new error log');
    // The worker reopens on the USR1 the master forwards, and says so in the new error log.
    await until(() => /Worker \d+: log files reopened/.test(readFileSync(errors, 'utf8')), 15_000, 'the worker to reopen');
    await request({ url: `http://127.0.0.1:${port}`, path: '/after' });
    await until(() => readFileSync(access, 'utf8').includes('/after'), 15_000, 'an access line in the new file');
    expect(readFileSync(`${access}.1`, 'utf8')).toContain('/before');
    expect(readFileSync(`${access}.1`, 'utf8')).not.toContain('/after');
  });
});
