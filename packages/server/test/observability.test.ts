import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir, BASIC_APP } from './fixtures.js';

afterEach(runCleanups);

describe('metrics, captured output and dev reload', () => {
  it('serves Prometheus metrics for all workers at --metrics-bind', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', '-t', '1', '--metrics-bind', '127.0.0.1:0', 'app.mjs:app']);
    const [, metricsPort] = await server.waitFor(/Metrics at: http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
    for (let i = 0; i < 6; i++) await request({ url: server.url });
    await request({ url: server.url, path: '/throw' });
    // Workers report with their heartbeat (timeout/4); wait for the counts, not for time.
    const text = await until(async () => {
      const body = (await request({ url: `http://127.0.0.1:${metricsPort}`, path: '/metrics' })).body;
      return /nodicorn_requests_total\{status="200"\} 6\b/.test(body) && /status="500"\} 1\b/.test(body) ? body : null;
    }, 10_000, 'the counts in /metrics');
    expect(text).toMatch(/nodicorn_request_duration_seconds_count 7\b/);
    expect(text).toMatch(/nodicorn_workers\{state="ready"\} 2/);
    expect(text).toMatch(/nodicorn_worker_rss_bytes\{pid="\d+"\} \d+/);
    expect(text).toMatch(/nodicorn_event_loop_lag_seconds\{pid="\d+"\} [\d.e-]+/);
  });

  it('/readyz is 503 while the workers boot and while the server stops, 200 in between; /healthz answers throughout', async () => {
    const dir = appDir({
      'app.mjs': BASIC_APP,
      'slow.mjs': `await new Promise((resolve) => setTimeout(resolve, 1500));\nexport { app } from './app.mjs';\n`,
    });
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', 'slow.mjs:app'], { waitReady: false });
    const [, port] = await server.waitFor(/Metrics at: http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
    const probe = (path: string) => request({ url: `http://127.0.0.1:${port}`, path });
    const booting = await probe('/readyz');
    expect([booting.status, booting.body]).toEqual([503, 'not ready: booting, 0/2 worker(s) serving\n']);
    expect((await probe('/healthz')).status).toBe(200);
    await server.waitFor(/\[INFO\] Ready: /);
    const [, appPort] = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())!;
    const running = await probe('/readyz');
    expect([running.status, running.body]).toEqual([200, 'ready: running, 2/2 worker(s) serving\n']);
    // A request in flight keeps the stop draining: the probe sees it stopping, not ready.
    const slow = request({ url: `http://127.0.0.1:${appPort}`, path: '/slow?ms=1500' }, { timeoutMs: 10_000 });
    await server.waitFor(/SLOW REQUEST/);
    server.signal('SIGTERM');
    await server.waitFor(/Handling signal: term/);
    const stopping = await probe('/readyz');
    expect(stopping.status).toBe(503);
    expect(stopping.body).toMatch(/^not ready: stopping/);
    expect((await probe('/healthz')).status).toBe(200);
    expect((await slow).status).toBe(200);
    expect(await server.exited(10_000)).toBe(0);
    expect((await probe('/nope').catch((err: Error) => err)) instanceof Error).toBe(true); // gone with the master
  });

  it('--stop-delay: after TERM /readyz fails at once while new connections are still served, then the stop drains and exits 0', async () => {
    const dir = appDir();
    const server = await startNodicorn(['-w', '2', '--chdir', dir, '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--stop-delay', '2', 'app.mjs:app']);
    const [, port] = /Metrics at: http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(server.output())!;
    const probe = () => request({ url: `http://127.0.0.1:${port}`, path: '/readyz' });
    expect((await probe()).status).toBe(200);
    server.signal('SIGTERM');
    await server.waitFor(/the graceful stop begins in 2s \(--stop-delay\)/);
    const termAt = Date.now();
    const unready = await probe();
    expect(unready.status).toBe(503);
    expect(unready.body).toMatch(/^not ready: stopping in [12]s, 2\/2 worker\(s\) serving/);
    // Still serving new connections normally in the window (a load balancer may not have noticed yet).
    for (let i = 0; i < 5; i++) expect((await request({ url: server.url })).status).toBe(200);
    expect(await server.exited(15_000)).toBe(0);
    expect(Date.now() - termAt).toBeGreaterThanOrEqual(1_500);
  });

  it('--capture-output sends what workers print into the error log', async () => {
    const dir = appDir({ 'app.mjs': `console.log('hello from app stdout'); console.error('and from stderr'); export const app = (req, res) => res.end('ok');` });
    const errors = join(dir, 'error.log');
    await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '--capture-output', '--error-logfile', errors, 'app.mjs:app'], { waitReady: false });
    await until(() => {
      try {
        const text = readFileSync(errors, 'utf8');
        return text.includes('hello from app stdout') && text.includes('and from stderr');
      } catch {
        return false;
      }
    }, 10_000, 'captured output in the error log');
  });

  it('a full or unwritable access log costs the log, not the serving: one error line', async () => {
    const dir = appDir();
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '--access-logfile', '/dev/full', 'app.mjs:app']);
    for (let i = 0; i < 20; i++) expect((await request({ url: server.url })).status).toBe(200);
    await server.waitFor(/\[ERROR\] Access log \/dev\/full cannot be written \(ENOSPC\); serving goes on/);
    for (let i = 0; i < 20; i++) expect((await request({ url: server.url })).status).toBe(200);
    expect(server.output().match(/cannot be written/g)).toHaveLength(1);
  });

  it('--reload replaces the workers when a file changes, serving the new code', async () => {
    const dir = appDir({ 'app.mjs': `export const app = (req, res) => res.end('v1');` });
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '--reload', 'app.mjs:app']);
    expect((await request({ url: server.url })).body).toBe('v1');
    writeFileSync(join(dir, 'app.mjs'), `export const app = (req, res) => res.end('v2');`);
    await server.waitFor(/Change detected in .*app\.mjs; reloading workers/);
    await until(async () => (await request({ url: server.url })).body === 'v2', 10_000, 'the new code to answer');
  });

  it('--reload with its logs, pidfile and socket under chdir reloads only for edits, once per burst (issue 12 point 8)', async () => {
    const dir = appDir({ 'app.mjs': `export const app = (req, res) => res.end('v1');` });
    const socketPath = join(dir, 'app.sock');
    // Started in the app's directory with relative paths, as the failing run was.
    const server = await startNodicorn(
      ['--chdir', '.', '-b', 'unix:app.sock', '--reload', '--error-logfile', 'error.log', '--access-logfile', 'access.log', '--pid', 'nodicorn.pid', 'app.mjs:app'],
      { waitReady: false, cwd: dir },
    );
    const errorLog = () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
    const detections = () => errorLog().match(/Change detected in .*/g) ?? [];
    const reloads = () => (errorLog().match(/Reload complete/g) ?? []).length;
    await until(() => /Ready: 1 worker/.test(errorLog()), 15_000, 'the server ready');
    for (let i = 0; i < 20; i++) expect((await request({ socketPath, path: `/${i}` })).body).toBe('v1');
    // A burst: an editor's save and a build touching several files within 100 ms.
    for (let i = 2; i <= 5; i++) writeFileSync(join(dir, 'app.mjs'), `export const app = (req, res) => res.end('v${i}');`);
    writeFileSync(join(dir, 'helper.mjs'), 'export {};');
    await until(() => reloads() >= 1, 15_000, 'the reload after the edits');
    // The old worker may take a connection in the moment between "Reload complete" and its retirement.
    await until(() => /Worker \d+ exited/.test(errorLog()), 15_000, 'the old worker gone');
    for (let i = 0; i < 20; i++) expect((await request({ socketPath, path: `/${i}` })).body, errorLog()).toBe('v5');
    writeFileSync(join(dir, 'app.mjs'), `export const app = (req, res) => res.end('v6');`);
    await until(() => reloads() >= 2, 15_000, 'the reload after the second edit');
    await until(async () => (await request({ socketPath })).body === 'v6', 10_000, 'the new code to answer');
    // The log lines, pid and socket writes in between were no change: two edits, two reloads.
    expect(detections()).toHaveLength(2);
    for (const line of detections()) expect(line).toMatch(/in .*\/(app|helper)\.mjs; reloading workers$/);
    server.signal('SIGTERM');
    expect(await server.exited(10_000)).toBe(0);
    expect(detections()).toHaveLength(2);
    // Master and workers wrote the one error log: relative paths name the same file in both.
    expect(errorLog()).toMatch(/Worker exiting/);
    expect(readFileSync(join(dir, 'access.log'), 'utf8').split('\n').length).toBeGreaterThan(40);
  });
});
