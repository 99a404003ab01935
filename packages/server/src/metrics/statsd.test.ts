import dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { parseStatsdHost } from './statsd-address.js';
import { MAX_DURATIONS_PER_BATCH, StatsdBatcher } from './statsd-batch.js';
import { MAX_DATAGRAM_BYTES, StatsdSink, packDatagrams, statsdPrefix } from './statsd.js';

const quiet = { debug() {}, info() {}, warning() {}, error() {}, critical() {}, exception() {} };

describe('statsd', () => {
  it('reads --statsd-host as Gunicorn writes it, and refuses unix: with why', () => {
    expect(parseStatsdHost('127.0.0.1:8125')).toEqual({ host: '127.0.0.1', port: 8125 });
    expect(parseStatsdHost('[::1]:8125')).toEqual({ host: '::1', port: 8125 });
    expect(parseStatsdHost('statsd.internal:9125')).toEqual({ host: 'statsd.internal', port: 9125 });
    expect(parseStatsdHost('unix:/run/dsd.socket')).toMatch(/Node has no Unix datagram sockets/);
    expect(parseStatsdHost('::1:8125')).toMatch(/not HOST:PORT/);
    expect(parseStatsdHost('[nope]:8125')).toMatch(/not an IPv6 address/);
    expect(parseStatsdHost('host:0')).toMatch(/port 0 is not 1 to 65535/);
  });

  it("joins the prefix with one dot, as Gunicorn's statsd logger", () => {
    expect(statsdPrefix('')).toBe('');
    expect(statsdPrefix('service.app')).toBe('service.app.');
    expect(statsdPrefix('service.app..')).toBe('service.app.');
  });

  it('packs lines into newline-joined datagrams no larger than the cap', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `gunicorn.request.duration:${i}.123|ms|#env:test`);
    const datagrams = packDatagrams(lines);
    expect(datagrams.length).toBeGreaterThan(1);
    for (const d of datagrams) expect(d.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    expect(datagrams.map(String).join('\n').split('\n')).toEqual(lines);
    expect(packDatagrams(['x'.repeat(2000)])[0]).toHaveLength(2000);
  });

  it('a batch keeps every duration up to its cap, then a uniform sample and how many it stands for', () => {
    const batcher = new StatsdBatcher();
    expect(batcher.take()).toBeUndefined();
    for (let i = 0; i < 10; i++) batcher.request(200, 0.001 * i);
    batcher.logLine('error');
    const small = batcher.take()!;
    expect(small).toMatchObject({ statuses: { 200: 10 }, durationCount: 10, logs: { error: 1 } });
    expect(small.durationsMs).toHaveLength(10);
    for (let i = 0; i < 4 * MAX_DURATIONS_PER_BATCH; i++) batcher.request(i % 2 ? 200 : 404, 0.002);
    const big = batcher.take()!;
    expect(big.durationsMs).toHaveLength(MAX_DURATIONS_PER_BATCH);
    expect(big.durationCount).toBe(4 * MAX_DURATIONS_PER_BATCH);
    expect(big.statuses).toEqual({ 200: 2 * MAX_DURATIONS_PER_BATCH, 404: 2 * MAX_DURATIONS_PER_BATCH });
    expect(batcher.take()).toBeUndefined();
  });

  it("writes Gunicorn's lines, sums the workers' batches, says a sample's rate, appends the tags", () => {
    const sink = new StatsdSink({ statsdHost: '127.0.0.1:9', statsdPrefix: 'svc', dogstatsdTags: 'env:test,blue' }, quiet);
    sink.add({ statuses: { 200: 3, 500: 1 }, durationsMs: [1.23456, 2], durationCount: 2, logs: { exception: 1 } });
    sink.add({ statuses: { 200: 2 }, durationsMs: [5], durationCount: 4, logs: {} });
    sink.countLog('warning');
    expect(sink.lines(2)).toEqual([
      'svc.gunicorn.requests:6|c|@1.0|#env:test,blue',
      'svc.gunicorn.request.status.200:5|c|@1.0|#env:test,blue',
      'svc.gunicorn.request.status.500:1|c|@1.0|#env:test,blue',
      'svc.gunicorn.request.duration:1.235|ms|#env:test,blue',
      'svc.gunicorn.request.duration:2|ms|#env:test,blue',
      'svc.gunicorn.request.duration:5|ms|@0.25|#env:test,blue',
      'svc.gunicorn.log.exception:1|c|@1.0|#env:test,blue',
      'svc.gunicorn.log.warning:1|c|@1.0|#env:test,blue',
      'svc.gunicorn.workers:2|g|#env:test,blue',
    ]);
    sink.close();
  });

  it('sends over UDP once connected, and a statsd that went away costs counted errors, never a throw', async () => {
    const receiver = dgram.createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    const { port } = receiver.address();
    const sink = new StatsdSink({ statsdHost: `127.0.0.1:${port}`, statsdPrefix: '', dogstatsdTags: '' }, quiet);
    await sink.open();
    sink.add({ statuses: { 200: 1 }, durationsMs: [1], durationCount: 1, logs: {} });
    const received = once(receiver, 'message');
    sink.flush(1);
    const [message] = (await received) as [Buffer];
    expect(String(message).split('\n')).toEqual(['gunicorn.requests:1|c|@1.0', 'gunicorn.request.status.200:1|c|@1.0', 'gunicorn.request.duration:1|ms', 'gunicorn.workers:1|g']);
    receiver.close();
    // Connected UDP: the port's ICMP unreachable surfaces as ECONNREFUSED on the sends after it.
    const deadline = Date.now() + 5_000;
    while (sink.sendErrors === 0 && Date.now() < deadline) {
      expect(() => sink.flush(1)).not.toThrow();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(sink.sendErrors).toBeGreaterThan(0);
    sink.close();
  });
});
