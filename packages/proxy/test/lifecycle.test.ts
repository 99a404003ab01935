import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODICORN_BIN, request, runCleanups, startProcess, tempDir, until } from '@nodicorn/testkit';
import { startProxy, startUpstream } from './helpers.js';

afterEach(runCleanups);

describe('signals', () => {
  it('SIGTERM stops accepting, finishes the request in flight and exits 0', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`]);
    const inflight = request({ url: proxy.http, path: '/slow?ms=1500' });
    await until(async () => (JSON.parse((await request({ socketPath: up.socket, path: '/count' })).body) as { seen: string[] }).seen.includes('GET /slow?ms=1500'), 10_000, 'the slow request to reach the app');
    proxy.proc.signal('SIGTERM');
    await proxy.proc.waitFor(/Handling signal: term/);
    await until(() => request({ url: proxy.http, path: '/' }).then(() => false, () => true), 5000, 'the listener to close');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(res.body).toContain('slow');
    expect(await proxy.proc.exited()).toBe(0);
  });

  it('SIGHUP reloads the config file without dropping a kept-alive connection', async () => {
    const dir = tempDir('ndcpx-');
    for (const v of ['v1', 'v2']) {
      mkdirSync(join(dir, v));
      writeFileSync(join(dir, v, 'which.txt'), v);
    }
    const config = join(dir, 'proxy.config.json');
    writeFileSync(config, JSON.stringify({ listen: ['http://127.0.0.1:0'], static: [{ prefix: '/', dir: 'v1' }] }));
    const proxy = await startProxy(['--config', config]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const get = () =>
      new Promise<string>((resolve, reject) => {
        http.get(`${proxy.http}/which.txt`, { agent }, (res) => {
          sockets.add(res.socket);
          let body = '';
          res.on('data', (c) => (body += c)).on('end', () => resolve(body));
        }).on('error', reject);
      });
    expect(await get()).toBe('v1');
    writeFileSync(config, JSON.stringify({ listen: ['http://127.0.0.1:0'], static: ['/=v2'] }));
    proxy.proc.signal('SIGHUP');
    await proxy.proc.waitFor(/Reloaded configuration/);
    // The small-file cache keeps an answer for at most a second, as nginx's open_file_cache_valid.
    await until(async () => (await get()) === 'v2', 5000, 'the reloaded mount to answer');
    expect(sockets.size).toBe(1);
    // A broken config on the next HUP is reported and the running one kept.
    writeFileSync(config, '{ nope');
    proxy.proc.signal('SIGHUP');
    await proxy.proc.waitFor(/Reload failed, keeping the running configuration: Config file .*proxy\.config\.json: is not valid JSON/);
    expect(await get()).toBe('v2');
    agent.destroy();
  });
});

describe('bad input', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--listen', 'ftp://127.0.0.1:1'], /Invalid --listen: expected http:\/\/HOST:PORT or https:\/\/HOST:PORT, got "ftp:\/\/127\.0\.0\.1:1"/],
    [['--lisen', 'http://127.0.0.1:0'], /Unknown option --lisen\. Did you mean --listen\?/],
    [['--max-body', 'lots', '--upstream', 'unix:/x'], /Invalid value for --max-body: expected a size such as 1m, 512k or 1024, got "lots"/],
    [['--upstream', 'nowhere'], /Invalid --upstream: expected unix:PATH or HOST:PORT, got "nowhere"/],
    [['--static', '/a=/definitely/not/here'], /Invalid --static: \/definitely\/not\/here is not a directory/],
    [['--listen', 'http://127.0.0.1:0'], /nothing to serve; give --upstream/],
    [['--config', 'missing.json'], /Config file .*missing\.json not found \(from -c\/--config\)\. Check the path\.$/],
  ];
  it.each(cases)('%j exits 2 with one line naming the setting', async (args, message) => {
    const proc = startProcess(process.execPath, [NODICORN_BIN, 'proxy', ...args], { cwd: tempDir('ndcpx-') });
    expect(await proc.exited()).toBe(2);
    const lines = proc.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^nodicorn proxy: error: /);
    expect(lines[0]).toMatch(message);
  });

  it('a config file with an unknown key names it and the nearest one', async () => {
    const dir = tempDir('ndcpx-');
    writeFileSync(join(dir, 'proxy.config.json'), JSON.stringify({ listen: 'http://127.0.0.1:0', upstream: ['unix:/x'], maxbody: '1m' }));
    const proc = startProcess(process.execPath, [NODICORN_BIN, 'proxy', '--config', 'proxy.config.json'], { cwd: dir });
    expect(await proc.exited()).toBe(2);
    expect(proc.output()).toMatch(/unknown key "maxbody"\. Did you mean "maxBody"\?/);
  });
});
