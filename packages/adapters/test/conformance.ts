// One conformance suite for every kind of app, run through a real nodicorn (master + 1 worker): each
// kind's test file calls conformance(kind) with a fixture that exports the framework object bare, so
// shape detection in the server's loader is part of what is tested.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCleanups, startNodicorn, tempDir, until, type NodicornServer } from '@nodicorn/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { abortAfterFirstBytes, download, fetchText, upload, type Target } from './http.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const MiB = 1 << 20;
const BIG = 100 * MiB;
const WARM_UP = 40 * MiB;
/**
 * What a warmed-up worker's peak RSS may grow by while moving 100 MiB each way: half of one body.
 * Holding either body would grow it by at least 100 MiB; what streaming costs depends on V8's heap
 * sizing (measured 4–10 MiB on Node 20, up to 28 MiB on Node 24's larger young generation).
 */
const MEMORY_BOUND = 50 * MiB;

export type Kind = 'express' | 'koa' | 'fastify' | 'fastify4' | 'nest-express' | 'nest-fastify' | 'hono' | 'fetch' | 'react-router' | 'next';

/** Where nodicorn finds a kind's app: `--chdir` and the APP argument. By default `fixtures/KIND-app.mjs:app`. */
export interface Entry {
  readonly chdir: string;
  readonly app: string;
}

interface Stats {
  readonly pid: number;
  readonly aborts: number;
  readonly started: boolean;
  readonly rss: number;
  readonly maxRss: number;
}

interface Served {
  readonly server: NodicornServer;
  /** The TCP bind: the peer is 127.0.0.1. */
  readonly tcp: Target;
  /** The Unix-socket bind: the peer has no address and is always trusted. */
  readonly unix: Target;
}

/** nodicorn with one worker serving the kind's fixture on an ephemeral TCP port and a Unix socket. */
async function serve(entry: Entry, extra: readonly string[] = []): Promise<Served> {
  const socketPath = join(tempDir('ndca-'), 's.sock');
  const server = await startNodicorn(['-w', '1', '-b', '127.0.0.1:0', '-b', `unix:${socketPath}`, '--chdir', entry.chdir, ...extra, entry.app]);
  return { server, tcp: { url: server.url }, unix: { socketPath } };
}

async function stats(target: Target): Promise<Stats> {
  return JSON.parse((await fetchText(target, '/stats')).body) as Stats;
}

/** Uploads and downloads `bytes`, checking both arrive whole. */
async function moveBoth(target: Target, bytes: number): Promise<void> {
  const up = await upload(target, '/upload', bytes);
  expect([up.status, JSON.parse(up.body)]).toEqual([200, { bytes }]);
  const down = await download(target, `/download?mb=${bytes / MiB}`);
  expect([down.status, down.bytes, down.headers['content-length']]).toEqual([200, bytes, String(bytes)]);
}

const FORWARDED = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'example.com' };
const withoutPort = (host: string) => host.replace(/:\d+$/, '');

/** The suite for one kind; `entry` is read when each test starts (a build made in beforeAll can be named). */
export function conformance(kind: Kind, entry: () => Entry = () => ({ chdir: FIXTURES, app: `${kind}-app.mjs:app` })): void {
  describe(`${kind} app through nodicorn`, () => {
    const start = (extra?: readonly string[]) => serve(entry(), extra);
    afterEach(runCleanups);

    it('serves HTTP: startup first, methods, query strings, status codes, HEAD, repeated headers and cookies, chunked bodies, 404, WebSocket', async () => {
      const { tcp, server } = await start();
      expect((await stats(tcp)).started, 'startup() ran before the first request').toBe(true);
      const hello = await fetchText(tcp, '/hello');
      expect([hello.status, hello.body, hello.headers['content-length']]).toEqual([200, 'hello', '5']);
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        expect((await fetchText(tcp, '/method', { method })).body).toBe(method);
      }
      const query = JSON.parse((await fetchText(tcp, '/query?a=1&b=two%20words&a=3')).body);
      expect(query).toEqual({ search: '?a=1&b=two%20words&a=3', b: 'two words' });
      for (const code of [201, 400, 418, 503]) {
        const res = await fetchText(tcp, `/status/${code}`);
        expect([res.status, res.body]).toEqual([code, `status ${code}`]);
      }
      const empty = await fetchText(tcp, '/status/204');
      expect([empty.status, empty.body]).toEqual([204, '']);
      const head = await fetchText(tcp, '/hello', { method: 'HEAD' });
      expect([head.status, head.body]).toEqual([200, '']);
      // Hono answers HEAD with the GET response's headers but a null body, so no Content-Length.
      if (kind !== 'hono') expect(head.headers['content-length']).toBe('5');

      const headers = await fetchText(tcp, '/headers', { headers: { 'x-in': ['a', 'b'] } });
      expect(JSON.parse(headers.body), 'repeated request header').toEqual({ in: 'a, b' });
      expect(headers.headers['set-cookie']?.map((c) => c.split(';')[0])).toEqual(['a=1', 'b=2']);
      expect(headers.headers['x-multi']).toBe('one, two');

      const chunked = await fetchText(tcp, '/chunked');
      expect([chunked.status, chunked.body, chunked.headers['transfer-encoding'], chunked.headers['content-length']]).toEqual([200, 'one,two,three', 'chunked', undefined]);

      expect((await fetchText(tcp, '/no/such/path')).status).toBe(404);

      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
      try {
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
        ws.send(`hello ${kind}`);
        expect(await echoed, 'WebSocket echo through the upgrade the app carries').toBe(`hello ${kind}`);
      } finally {
        ws.terminate();
      }
    });

    it('answers 500 for thrown and rejected errors, tells the app when the client goes away, and the worker lives', async () => {
      const { tcp } = await start();
      const { pid, aborts } = await stats(tcp);
      expect((await fetchText(tcp, '/throw')).status).toBe(500);
      expect((await fetchText(tcp, '/reject')).status).toBe(500);
      expect(aborts).toBe(0);
      await abortAfterFirstBytes(tcp, '/slow');
      await until(async () => (await stats(tcp)).aborts === 1, 10_000, 'the app to see the abort');
      expect((await fetchText(tcp, '/hello')).body).toBe('hello');
      expect((await stats(tcp)).pid, 'the same worker still serves').toBe(pid);
    });

    it('streams 100 MiB up and 100 MiB down without the worker holding them in memory', async () => {
      const { tcp } = await start();
      // The first tens of MiB through a fresh worker grow V8's young generation and the socket buffers
      // once; that plateau is reached first, so what is measured is growth that scales with the body.
      await moveBoth(tcp, WARM_UP);
      const before = await stats(tcp);
      await moveBoth(tcp, BIG);
      const after = await stats(tcp);
      expect(after.pid).toBe(before.pid);
      const grew = after.maxRss - before.maxRss;
      expect(grew, `peak RSS grew by ${(grew / MiB).toFixed(1)} MiB (${before.maxRss} → ${after.maxRss})`).toBeLessThan(MEMORY_BOUND);
    });

    it('honours X-Forwarded-For/Proto/Host from a trusted peer (127.0.0.1 by default, a Unix socket) and ignores them from an untrusted one', async () => {
      const [trusting, untrusting] = await Promise.all([start(), start(['--forwarded-allow-ips', '10.9.9.9'])]);
      for (const target of [trusting.tcp, trusting.unix]) {
        const who = JSON.parse((await fetchText(target, '/whoami', { headers: FORWARDED })).body);
        expect({ ...who, host: withoutPort(who.host) }, JSON.stringify(target)).toEqual({ ip: '203.0.113.7', protocol: 'https', host: 'example.com' });
      }
      const who = JSON.parse((await fetchText(untrusting.tcp, '/whoami', { headers: FORWARDED })).body);
      expect({ ...who, host: withoutPort(who.host) }, '--forwarded-allow-ips 10.9.9.9').toEqual({ ip: '127.0.0.1', protocol: 'http', host: '127.0.0.1' });
    });
  });
}
