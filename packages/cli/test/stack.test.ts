import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processAlive } from '@nodicorn/server';
import { childPids, cpuTicksPerSecond, freePort, NODICORN_BIN, onCleanup, request, runCleanups, running, startProcess, tempDir, until } from '@nodicorn/testkit';

afterEach(runCleanups);

const APP = `export const app = (req, res) => res.end(JSON.stringify({ pid: process.pid, stack: process.env.NODICORN_STACK_NAME, worker: process.env.NODICORN_WORKER_ID }));`;

/** An app that logs every request to stdout and stderr, which the supervisor's pipes carry. */
const CHATTY_APP = `export const app = (req, res) => { console.log('handling', req.url); console.error('to stderr too'); res.end(String(process.pid)); };`;

function stackDir(servers: string, proxy?: string): string {
  const dir = tempDir('ndc-stack-');
  writeFileSync(join(dir, 'app.mjs'), APP);
  writeFileSync(join(dir, 'chatty.mjs'), CHATTY_APP);
  writeFileSync(join(dir, 'broken.mjs'), `throw new Error('cannot connect to the database');`);
  writeFileSync(join(dir, 'nodicorn.stack.mjs'), `export default { name: 'tiny', stateDir: 'state', servers: ${servers}${proxy ? `, proxy: ${proxy}` : ''} };`);
  // Whatever a test leaves running is stopped through the stack itself, then by pid as a last resort.
  onCleanup(() => void spawnSync(process.execPath, [NODICORN_BIN, 'stack', 'down', '--file', join(dir, 'nodicorn.stack.mjs')], { timeout: 60_000 }));
  return dir;
}

const stack = (dir: string, ...args: string[]) =>
  spawnSync(process.execPath, [NODICORN_BIN, 'stack', ...args, '--file', join(dir, 'nodicorn.stack.mjs')], { encoding: 'utf8', timeout: 120_000 });

describe('nodicorn stack', () => {
  it('up -d starts every server on its socket, refuses a second up, and down leaves nothing behind', async () => {
    const dir = stackDir(`{ web: { app: 'app.mjs:app', workers: 2 }, api: { app: 'app.mjs:app' } }`);
    const up = stack(dir, 'up', '-d');
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/nodicorn stack "tiny" is up/);
    expect(up.stdout).toMatch(/web\s+app\.mjs:app\s+2 worker\(s\)\s+unix:.*state\/web\.sock/);
    const answer = JSON.parse((await request({ socketPath: join(dir, 'state/web.sock') })).body) as { stack: string; worker: string };
    expect(answer.stack).toBe('tiny');
    expect(Number(answer.worker)).toBeGreaterThan(0);
    const again = stack(dir, 'up', '-d');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/Stack "tiny" is already running \(pid \d+/);
    const status = stack(dir, 'status');
    expect(status.stdout).toMatch(/server web: pid \d+ running/);
    expect(status.stdout).toMatch(/tiny-web: master \d+, running, up \d+s, 2\/2 workers/);
    expect(stack(dir, 'logs').stdout).toMatch(/^web\s+\| .*Ready: 2 worker\(s\)/m);
    const down = stack(dir, 'down');
    expect(down.stdout).toBe('stack "tiny" stopped\n');
    expect(readdirSync(join(dir, 'state')).filter((f) => f.endsWith('.sock') || f === 'stack.json')).toEqual([]);
    expect(stack(dir, 'status').stdout).toBe('stack "tiny" is not running\n');
  });

  it("up -d prints Logs and Stop commands that run as printed, and each up keeps the last run's log", async () => {
    const dir = stackDir(`{ web: { app: 'app.mjs:app' } }`);
    const inDir = (command: string, timeout = 60_000) => spawnSync('/bin/sh', ['-c', command], { cwd: dir, encoding: 'utf8', timeout, env: { ...process.env, npm_lifecycle_event: '' } });
    const first = inDir(`"${process.execPath}" "${NODICORN_BIN}" stack up -d`);
    expect(first.status, first.stderr).toBe(0);
    const printed = /Logs: (.+?) {3}Stop: (.+)$/m.exec(first.stdout);
    expect(printed, first.stdout).not.toBeNull();
    const [, logsCommand, stopCommand] = printed!;
    expect(logsCommand).toMatch(/ stack logs -f$/); // the stack file is the one found in this directory
    // `logs -f` follows until stopped: it has printed the log by the time the bounded run ends it.
    const followed = inDir(logsCommand!, 3_000);
    expect(followed.stdout).toMatch(/^web\s+\| .*Ready: 1 worker\(s\)/m);
    const stopped = inDir(stopCommand!);
    expect(stopped.status, stopped.stderr).toBe(0);
    expect(stopped.stdout).toBe('stack "tiny" stopped\n');
    const firstLog = readFileSync(join(dir, 'state/stack.log'), 'utf8');
    expect(inDir(`"${process.execPath}" "${NODICORN_BIN}" stack up -d`).status).toBe(0);
    expect(readFileSync(join(dir, 'state/stack.log.1'), 'utf8')).toBe(firstLog);
    expect(readFileSync(join(dir, 'state/stack.log'), 'utf8')).not.toContain(firstLog.split('\n')[0]);
    expect(inDir(stopCommand!).status).toBe(0);
  });

  it('down stops the parts even when the supervisor was killed outright', async () => {
    const dir = stackDir(`{ web: { app: 'app.mjs:app' } }`);
    expect(stack(dir, 'up', '-d').status).toBe(0);
    const state = JSON.parse(readFileSync(join(dir, 'state/stack.json'), 'utf8')) as { supervisorPid: number; parts: { pid: number }[] };
    process.kill(state.supervisorPid, 'SIGKILL');
    await until(() => !processAlive(state.supervisorPid), 10_000, 'the supervisor gone');
    expect(processAlive(state.parts[0]!.pid)).toBe(true);
    expect(stack(dir, 'down').stdout).toBe('stack "tiny" stopped\n');
    expect(processAlive(state.parts[0]!.pid)).toBe(false);
    expect(existsSync(join(dir, 'state/web.sock'))).toBe(false);
  });

  it('a part that fails to start stops the others and says which and why', () => {
    const dir = stackDir(`{ web: { app: 'app.mjs:app' }, db: { app: 'broken.mjs' } }`);
    const up = stack(dir, 'up', '-d');
    expect(up.status).toBe(1);
    expect(up.stderr).toMatch(/server "db" failed to start/);
    expect(up.stderr).toMatch(/cannot connect to the database/);
    expect(existsSync(join(dir, 'state/web.sock'))).toBe(false);
  });

  it('in the foreground, Ctrl-C (INT) stops everything gracefully and exits 0', async () => {
    const dir = stackDir(`{ web: { app: 'app.mjs:app' } }`);
    const proc = startProcess(process.execPath, [NODICORN_BIN, 'stack', 'up', '--file', join(dir, 'nodicorn.stack.mjs')]);
    await proc.waitFor(/Ctrl-C stops the stack gracefully/);
    expect((await request({ socketPath: join(dir, 'state/web.sock') })).status).toBe(200);
    proc.signal('SIGINT');
    expect(await proc.exited()).toBe(0);
    expect(proc.output()).toMatch(/web\s+\| .*Shutting down: Master \(exit 0\)/);
    await until(() => !existsSync(join(dir, 'state/web.sock')), 5000, 'the socket removed');
  });

  it('puts the proxy in front with TLS from a generated certificate, the redirect, and routes by prefix', async () => {
    const [httpsPort, httpPort] = [await freePort(), await freePort()];
    const dir = stackDir(`{ web: { app: 'app.mjs:app' }, api: { app: 'app.mjs:app' } }`, `{ listen: ['https://127.0.0.1:${httpsPort}', 'http://127.0.0.1:${httpPort}'], redirectHttps: true, serverName: ['localhost'], routes: [{ prefix: '/api/', upstream: 'api' }, { prefix: '/', upstream: 'web' }] }`);
    const up = stack(dir, 'up', '-d');
    expect(up.status, up.stderr).toBe(0);
    const cert = /self-signed leaf certificate (\S+)/.exec(up.stdout)![1]!;
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        https.get({ host: '127.0.0.1', servername: 'localhost', port: httpsPort, path, ca: readFileSync(cert) }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
    const web = JSON.parse(await get('/')) as { pid: number };
    const api = JSON.parse(await get('/api/x')) as { pid: number };
    const status = stack(dir, 'status').stdout;
    expect(status).toMatch(new RegExp(`tiny-web: master[\\s\\S]*#1\\s+${web.pid}\\s`));
    expect(status).toMatch(new RegExp(`tiny-api: master[\\s\\S]*#1\\s+${api.pid}\\s`));
    const redirect = await request({ url: `http://127.0.0.1:${httpPort}`, path: '/somewhere' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe(`https://localhost:${httpsPort}/somewhere`);
    expect(stack(dir, 'down').status).toBe(0);
  });

  it('with its supervisor SIGKILLed, every part keeps serving on the broken log pipes without spinning, and down stops them at once', async () => {
    const httpPort = await freePort();
    const dir = stackDir(`{ web: { app: 'chatty.mjs:app', workers: 2 } }`, `{ listen: ['http://127.0.0.1:${httpPort}'] }`);
    expect(stack(dir, 'up', '-d').status).toBe(0);
    const url = `http://127.0.0.1:${httpPort}`;
    await until(() => request({ url }).then((r) => r.status === 200), 10_000, 'the stack to answer');
    const state = JSON.parse(readFileSync(join(dir, 'state/stack.json'), 'utf8')) as { supervisorPid: number; parts: { pid: number }[] };
    process.kill(state.supervisorPid, 'SIGKILL');
    await until(() => !running(state.supervisorPid), 10_000, 'the supervisor gone');
    const parts = state.parts.map((part) => part.pid);
    const workers = parts.flatMap((pid) => childPids(pid));
    const answeredBy = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await request({ url, path: `/r${i}` });
      expect(res.status).toBe(200);
      answeredBy.add(res.body);
    }
    // No worker died of a write to its dead pipe: the ones serving now are the ones from before.
    for (const pid of answeredBy) expect(workers).toContain(Number(pid));
    for (const pid of [...parts, ...workers]) expect(await cpuTicksPerSecond(pid, 500)).toBeLessThan(50);
    const t0 = Date.now();
    const down = stack(dir, 'down');
    expect(down.stdout).toBe('stack "tiny" stopped\n');
    expect(Date.now() - t0).toBeLessThan(15_000);
    for (const pid of [...parts, ...workers]) expect(running(pid)).toBe(false);
  });

  it("routes a prefix to servers on another host (the proxy's upstreams over TCP) beside the stack's own server", async () => {
    // Another machine's nodicorn, as far as the proxy can tell: a TCP server on its own address.
    const elsewhere = http.createServer((req, res) => res.end(JSON.stringify({ elsewhere: true, url: req.url })));
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => elsewhere.close(() => resolve())));
    const remote = `127.0.0.1:${(elsewhere.address() as { port: number }).port}`;
    const httpPort = await freePort();
    const dir = stackDir(`{ web: { app: 'app.mjs:app' } }`, `{ listen: ['http://127.0.0.1:${httpPort}'], upstreams: { api: ['${remote}'] }, routes: [{ prefix: '/api', upstream: 'api' }, { prefix: '/', upstream: 'web' }] }`);
    const up = stack(dir, 'up', '-d');
    expect(up.status, up.stderr).toBe(0);
    const url = `http://127.0.0.1:${httpPort}`;
    expect(JSON.parse((await request({ url, path: '/api/orders' })).body)).toEqual({ elsewhere: true, url: '/api/orders' });
    expect((JSON.parse((await request({ url, path: '/' })).body) as { stack: string }).stack).toBe('tiny');
    expect(stack(dir, 'down').status).toBe(0);
  });

  it('a proxy without routes in front of one server routes / to it', async () => {
    const httpPort = await freePort();
    const dir = stackDir(`{ web: { app: 'app.mjs:app' } }`, `{ listen: ['http://127.0.0.1:${httpPort}'] }`);
    const up = stack(dir, 'up', '-d');
    expect(up.status, up.stderr).toBe(0);
    const res = await request({ url: `http://127.0.0.1:${httpPort}`, path: '/anything' });
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { stack: string }).stack).toBe('tiny');
    expect(stack(dir, 'down').status).toBe(0);
  });

  it('a bad stack file is one line naming the problem', () => {
    const dir = stackDir(`{ web: { app: 'app.mjs:app', wrokers: 2 } }`);
    const up = stack(dir, 'up', '-d');
    expect(up.status).toBe(2);
    expect(up.stderr.trim()).toMatch(/^nodicorn: error: Config file .*\(server "web"\): unknown key "wrokers"\. Did you mean "workers"\?/);
  });
});
