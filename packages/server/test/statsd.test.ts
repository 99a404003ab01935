import dgram from 'node:dgram';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, onCleanup, request, runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

/** A statsd server: a UDP socket on loopback that keeps every datagram it receives. */
async function statsdSink(port = 0) {
  const socket = dgram.createSocket('udp4');
  const datagrams: Buffer[] = [];
  socket.on('message', (message) => datagrams.push(message));
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
  let open = true;
  const close = () => {
    if (open) socket.close();
    open = false;
  };
  onCleanup(close);
  const lines = () => datagrams.flatMap((d) => String(d).split('\n'));
  /** The sum of a counter over every line received for it. */
  const sum = (name: string) => lines().reduce((total, line) => (line.startsWith(`${name}:`) ? total + Number(line.slice(name.length + 1).split('|')[0]) : total), 0);
  return { port: socket.address().port, datagrams, lines, sum, close };
}

describe('--statsd-host: Gunicorn\'s statsd metrics, sent by the master for the whole server', () => {
  it('sums requests, statuses and log lines across 2 workers, gauges the workers, times each request, with the prefix and tags', async () => {
    const statsd = await statsdSink();
    const server = await startNodicorn(['-w', '2', '--chdir', appDir(), '-b', '127.0.0.1:0', '--statsd-host', `127.0.0.1:${statsd.port}`, '--statsd-prefix', 'svc.app', '--dogstatsd-tags', 'env:test,blue', 'app.mjs:app']);
    const served = new Set<string>();
    for (let i = 0; i < 40; i++) served.add((await request({ url: server.url })).body);
    for (let i = 0; i < 2; i++) expect((await request({ url: server.url, path: '/throw' })).status).toBe(500);
    expect(served.size, 'both workers served').toBe(2);

    const p = 'svc.app.gunicorn';
    await until(() => statsd.sum(`${p}.requests`) === 42 && statsd.sum(`${p}.log.exception`) === 2, 15_000, 'the counts of 42 requests');
    expect(statsd.sum(`${p}.request.status.200`)).toBe(40);
    expect(statsd.sum(`${p}.request.status.500`)).toBe(2);
    const durations = statsd.lines().filter((l) => l.startsWith(`${p}.request.duration:`));
    expect(durations).toHaveLength(42);
    for (const line of durations) expect(line).toMatch(/^svc\.app\.gunicorn\.request\.duration:\d+(\.\d+)?\|ms\|#env:test,blue$/);
    expect(statsd.lines()).toContain(`${p}.workers:2|g|#env:test,blue`);
    // Every line is a statsd line with the prefix and the tags; every datagram fits an Ethernet MTU.
    for (const line of statsd.lines()) expect(line).toMatch(/^svc\.app\.gunicorn\.[a-z0-9.]+:\d+(\.\d+)?\|(c\|@1\.0|ms|g)\|#env:test,blue$/);
    for (const datagram of statsd.datagrams) expect(datagram.length).toBeLessThanOrEqual(1432);

    // A worker that crashes: the master's own ERROR line is counted too, and the gauge follows the pool.
    const before = childPids(server.pid);
    await request({ url: server.url, path: '/crash' }).catch(() => undefined);
    await server.waitFor(/\[ERROR\] Worker \d+ died unexpectedly/);
    await until(() => statsd.sum(`${p}.log.error`) >= 1, 15_000, 'gunicorn.log.error');
    await until(() => childPids(server.pid).length === 2 && childPids(server.pid).some((pid) => !before.includes(pid)), 15_000, 'the replacement worker');
    const gauge = statsd.lines().length;
    await until(() => statsd.lines().slice(gauge).includes(`${p}.workers:2|g|#env:test,blue`), 15_000, 'the gauge back at 2');
  });

  it('HUP with a new statsd_prefix and dogstatsd_tags in the config file: the lines after the reload carry them', async () => {
    const statsd = await statsdSink();
    const dir = appDir();
    const config = (prefix: string, tags: string) => writeFileSync(join(dir, 'conf.json'), JSON.stringify({ statsd_host: `127.0.0.1:${statsd.port}`, statsd_prefix: prefix, dogstatsd_tags: tags }));
    config('before', '');
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-c', join(dir, 'conf.json'), 'app.mjs:app']);
    await until(() => statsd.lines().includes('before.gunicorn.workers:1|g'), 15_000, 'the first prefix');
    config('after', 'env:new');
    server.signal('SIGHUP');
    await server.waitFor(/Reload complete/);
    expect((await request({ url: server.url })).status).toBe(200);
    await until(() => statsd.sum('after.gunicorn.requests') === 1, 15_000, 'the request after the reload, under the new prefix');
    expect(statsd.lines().filter((l) => l.startsWith('after.'))).toContain('after.gunicorn.requests:1|c|@1.0|#env:new');
    expect(statsd.lines().filter((l) => l.startsWith('after.')).every((l) => l.endsWith('|#env:new'))).toBe(true);
  });

  it("every request counts across a HUP under traffic and a stop: a retiring worker hands its last counts over as it exits", async () => {
    const statsd = await statsdSink();
    const server = await startNodicorn(['-w', '2', '--chdir', appDir(), '-b', '127.0.0.1:0', '--statsd-host', `127.0.0.1:${statsd.port}`, 'app.mjs:app']);
    let served = 0;
    let looping = true;
    const loop = (async () => {
      while (looping) if ((await request({ url: server.url })).status === 200) served++;
    })();
    await until(() => served >= 20, 15_000, 'traffic');
    const before = childPids(server.pid);
    server.signal('SIGHUP');
    // The old workers stop accepting the moment their replacements are ready and exit once their
    // last responses are out: what they served in their last 250 ms is in no periodic report.
    await until(() => childPids(server.pid).length === 2 && childPids(server.pid).every((pid) => !before.includes(pid)), 15_000, 'the old workers gone');
    looping = false;
    await loop;
    await until(() => statsd.sum('gunicorn.requests') === served, 5_000, `all ${served} requests counted`);
    for (let i = 0; i < 3; i++) expect((await request({ url: server.url })).status).toBe(200);
    server.signal('SIGTERM');
    expect(await server.exited()).toBe(0);
    await until(() => statsd.sum('gunicorn.requests') === served + 3, 5_000, 'the requests before the stop counted');
    expect(statsd.lines()).toContain('gunicorn.workers:0|g');
  });

  it('a statsd that goes away costs counted send errors, never the master or a request; sending resumes when it is back', async () => {
    const statsd = await statsdSink();
    const server = await startNodicorn(['--chdir', appDir(), '-b', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--statsd-host', `127.0.0.1:${statsd.port}`, 'app.mjs:app']);
    const [, metricsPort] = await server.waitFor(/Metrics at: http:\/\/127\.0\.0\.1:(\d+)\/metrics/);
    const counter = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await request({ url: `http://127.0.0.1:${metricsPort}`, path: '/metrics' })).body)?.[1]);
    await until(() => statsd.sum('gunicorn.workers') >= 1, 15_000, 'the first flush');
    statsd.close();
    // Nothing listens now: each flush meets ICMP port unreachable (ECONNREFUSED on the connected socket).
    for (let i = 0; i < 10; i++) expect((await request({ url: server.url })).status).toBe(200);
    await until(async () => (await counter('nodicorn_statsd_send_errors_total')) >= 2, 15_000, 'send errors counted');
    for (let i = 0; i < 10; i++) expect((await request({ url: server.url })).status).toBe(200);
    const back = await statsdSink(statsd.port);
    await until(() => back.sum('gunicorn.workers') >= 1, 15_000, 'sending again');
    expect(await counter('nodicorn_statsd_datagrams_sent_total')).toBeGreaterThan(1);
    expect(server.output()).not.toMatch(/\[(ERROR|CRITICAL|WARNING)\]/);
  });
});
