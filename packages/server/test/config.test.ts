import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, childPids, request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir, BASIC_APP } from './fixtures.js';

afterEach(runCleanups);

/** A config file whose every hook appends "name pid" to hooks.log, so tests can see where each ran. */
const HOOKS_CONFIG = (extra: string) => `
import { appendFileSync } from 'node:fs';
const note = (name) => appendFileSync(new URL('./hooks.log', import.meta.url), name + ' ' + process.pid + '\\n');
export default {
  ${extra}
  onStarting: () => note('onStarting'),
  whenReady: () => note('whenReady'),
  preFork: () => note('preFork'),
  postFork: () => note('postFork'),
  postWorkerInit: () => note('postWorkerInit'),
  preRequest: (worker, req) => note('preRequest'),
  postRequest: (worker, req, res) => note('postRequest:' + res.statusCode),
  workerInt: () => note('workerInt'),
  workerAbort: () => note('workerAbort'),
  childExit: () => note('childExit'),
  workerExit: () => note('workerExit'),
  nworkersChanged: (server, n, old) => note('nworkersChanged:' + old + '->' + n),
  onReload: () => note('onReload'),
  onExit: () => note('onExit'),
};
`;

const hookLines = (dir: string) => readFileSync(join(dir, 'hooks.log'), 'utf8').trim().split('\n');
const ran = (dir: string, name: string) => hookLines(dir).filter((l) => l.startsWith(`${name} `)).map((l) => Number(l.split(' ')[1]));

describe('config file and hooks', () => {
  it('reads nodicorn.config.mjs from cwd, below NODICORN_CMD_ARGS and the command line', async () => {
    const dir = appDir({ 'app.mjs': BASIC_APP, 'nodicorn.config.mjs': `export default { workers: 3, app: 'app.mjs:app', bind: '127.0.0.1:0', timeout: 11 };` });
    const printed = spawnSync(process.execPath, [NODICORN_BIN, '--print-config', '--timeout', '13'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODICORN_CMD_ARGS: '-w 2 --timeout 12' } });
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(/^workers\s+= 2$/m);
    expect(printed.stdout).toMatch(/^timeout\s+= 13$/m);
    expect(printed.stdout).toMatch(/^wsgi_app\s+= "app\.mjs:app"$/m);
    expect(printed.stdout).toMatch(/^bind\s+= \["127\.0\.0\.1:0"\]$/m);
    const server = await startNodicorn([], { cwd: dir });
    expect(childPids(server.pid)).toHaveLength(3);
  });

  it('calls each hook once, in the process Gunicorn calls it in', async () => {
    const dir = appDir({ 'app.mjs': BASIC_APP, 'hooks.mjs': HOOKS_CONFIG('') });
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-c', join(dir, 'hooks.mjs'), 'app.mjs:app']);
    const [worker] = childPids(server.pid);
    expect((await request({ url: server.url })).status).toBe(200);
    await until(() => ran(dir, 'postRequest:200').length === 1, 15_000, 'postRequest');
    server.signal('SIGTTIN');
    await server.waitFor(/Worker \d+ ready \(scale/);
    expect(ran(dir, 'nworkersChanged:1->2')).toEqual([server.pid]);
    server.signal('SIGTERM');
    expect(await server.exited()).toBe(0);
    for (const name of ['onStarting', 'whenReady', 'onExit']) expect(ran(dir, name), name).toEqual([server.pid]);
    expect(ran(dir, 'preFork')).toEqual([server.pid, server.pid]);
    for (const name of ['postFork', 'postWorkerInit']) expect(ran(dir, name)).toHaveLength(2);
    expect(ran(dir, 'postFork')).toContain(worker);
    expect(ran(dir, 'preRequest')).toEqual([worker]);
    expect(ran(dir, 'postRequest:200')).toEqual([worker]);
    expect(ran(dir, 'workerExit')).toEqual([server.pid, server.pid]);
    expect(ran(dir, 'childExit')).toEqual([server.pid, server.pid]);
  });

  it('re-reads the config file on HUP, calls onReload, and keeps serving when the new file is broken', async () => {
    const dir = appDir({ 'app.mjs': BASIC_APP, 'conf.mjs': HOOKS_CONFIG('workers: 1,') });
    const conf = join(dir, 'conf.mjs');
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-c', conf, 'app.mjs:app']);
    writeFileSync(conf, HOOKS_CONFIG('workers: 2,'));
    server.signal('SIGHUP');
    await server.waitFor(/Reload complete/);
    await until(() => childPids(server.pid).length === 2, 15_000, 'two workers after the reload');
    expect(ran(dir, 'onReload')).toEqual([server.pid]);
    writeFileSync(conf, 'export default { wokers: 3 };');
    server.signal('SIGHUP');
    await server.waitFor(/Reload aborted, the running workers carry on: Config file .*conf\.mjs: unknown key "wokers"\. Did you mean "workers"\?/);
    expect((await request({ url: server.url })).status).toBe(200);
  });

  it('a hook that throws is logged with its name; a throwing onStarting stops the start', async () => {
    const dir = appDir({ 'app.mjs': BASIC_APP, 'a.mjs': `export default { preRequest() { throw new Error('hook bug'); } };`, 'b.mjs': `export default { onStarting() { throw new Error('not today'); } };` });
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-c', join(dir, 'a.mjs'), 'app.mjs:app']);
    expect((await request({ url: server.url })).status).toBe(200);
    await server.waitFor(/\[ERROR\] Hook preRequest failed: Error: hook bug/);
    const refused = spawnSync(process.execPath, [NODICORN_BIN, '--chdir', dir, '-b', '127.0.0.1:0', '-c', join(dir, 'b.mjs'), 'app.mjs:app'], { encoding: 'utf8', timeout: 30_000 });
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toBe('nodicorn: error: Hook onStarting failed, not starting: not today');
  });

  it('a typo in the config file is one line with the nearest key, exit 2', () => {
    const dir = appDir({ 'app.mjs': BASIC_APP, 'nodicorn.config.json': '{ "keepAlive": 5 }' });
    const run = spawnSync(process.execPath, [NODICORN_BIN, 'app.mjs:app'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(`nodicorn: error: Config file ${join(dir, 'nodicorn.config.json')}: unknown key "keepAlive". Did you mean "keepalive"? Keys are the settings of nodicorn --help (snake_case as in Gunicorn, or camelCase) and the hooks.`);
  });
});

/** Sends raw bytes and resolves with everything the server answered before closing. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(text.slice(0, 40))}`)));
    socket.on('data', (c: Buffer) => (answer += c));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('limits, answered as Gunicorn answers them', () => {
  it.each([
    ['a request line over --limit-request-line', `GET /${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
    ['more fields than --limit-request-fields', `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 12 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`, 431],
    ['a field over --limit-request-field_size', `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(200)}\r\n\r\n`, 431],
    ['a transfer coding other than chunked', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501],
    ['chunked on HTTP/1.0', 'POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['contradictory scheme headers from a trusted proxy', 'GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n\r\n', 400],
    ['a control character in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n', 400],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ])('%s', async (_, raw, status) => {
    const dir = appDir();
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '--limit-request-line', '200', '--limit-request-fields', '10', '--limit-request-field_size', '100', 'app.mjs:app']);
    const answer = await rawExchange(server.port!, raw);
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect((await request({ url: server.url })).status).toBe(200);
  });
});
