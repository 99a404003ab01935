// RFC 9110/9112 conformance attacks on the server, raw bytes over a real socket. Each refusal is
// followed by a pipelined request that must never reach the app (issue 11 item 13: nothing after a
// rejection on that connection runs, as in Gunicorn).
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCleanups, startNodicorn, type NodicornServer } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

/** Logs every request it runs (URL, Host, trailers) to a file, and upgrades that reach it. */
const RECORDER = `
import { appendFileSync } from 'node:fs';
const log = (entry) => appendFileSync(process.env.SEEN, JSON.stringify(entry) + '\\n');
export const app = {
  handle(req, res) {
    req.resume();
    req.on('end', () => {
      log({ url: req.url, host: req.headers.host, trailers: req.trailers });
      res.end('ok');
    });
  },
  upgrade(req, socket) {
    log({ upgrade: req.url });
    socket.end('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\n');
  },
};
`;

let server: NodicornServer;
let seenFile: string;
const seen = (): { url?: string; host?: string; trailers?: Record<string, string>; upgrade?: string }[] =>
  readFileSync(seenFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));

/** Sends raw bytes and resolves with everything the server answered before closing (or going quiet). */
function exchange(payload: string, idleMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port!, '127.0.0.1', () => socket.write(payload));
    let answer = '';
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(answer) : reject(err)));
  });
}

// One server per test: the testkit stops every process it started after each test.
beforeEach(async () => {
  const dir = appDir({ 'recorder.mjs': RECORDER });
  seenFile = join(dir, 'seen.jsonl');
  writeFileSync(seenFile, '');
  server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '-e', `SEEN=${seenFile}`, '--limit-request-field_size', '100', 'recorder.mjs:app']);
});
afterEach(runCleanups);

const MARKER = 'GET /marker HTTP/1.1\r\nHost: ok\r\n\r\n';

describe('the server refuses what RFC 9110/9112 say it must, and runs nothing after', () => {
  it.each([
    ['two Host fields (RFC 9112 §3.2)', 'GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['an HTTP/1.1 request without Host', 'GET /a HTTP/1.1\r\n\r\n', 400],
    ['an HTTP/2.0 request line', 'GET /a HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['an HTTP/1.2 request line', 'GET /a HTTP/1.2\r\nHost: a\r\n\r\n', [400, 505]],
    ['Transfer-Encoding: identity, chunked', 'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n', 501],
    ['Transfer-Encoding: gzip', 'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', 501],
    ['a 0x01 in a field value (RFC 9110 §5.5)', 'GET /a HTTP/1.1\r\nHost: a\r\nX-A: a\x01b\r\n\r\n', 400],
    ['a 0x7F in a field value', 'GET /a HTTP/1.1\r\nHost: a\r\nX-A: a\x7fb\r\n\r\n', 400],
    ['GET * (only OPTIONS takes *)', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['a field line one byte over --limit-request-field_size', `GET /a HTTP/1.1\r\nHost: a\r\nX-Long: ${'v'.repeat(100 - 'X-Long: '.length - 2 + 1)}\r\n\r\n`, 431],
  ] as const)('%s', async (_, attack, status) => {
    const before = seen().length;
    const answer = await exchange(attack + MARKER);
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).toHaveLength(1);
    expect(([] as number[]).concat(status)).toContain(statuses[0]);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(seen().slice(before), 'the app ran nothing from that connection').toEqual([]);
  });

  it("counts the field line as Gunicorn does: 'Name: value' plus CRLF up to the limit is taken", async () => {
    const fits = `X-Long: ${'v'.repeat(100 - 'X-Long: '.length - 2)}`;
    expect(fits.length + 2).toBe(100);
    expect(await exchange(`GET /fits HTTP/1.1\r\nHost: a\r\n${fits}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('takes an absolute-form target (RFC 9112 §3.2.2): the authority becomes Host, the path is passed on', async () => {
    const answer = await exchange('GET http://example.com:8080/shop?q=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen().at(-1)).toMatchObject({ url: '/shop?q=1', host: 'example.com:8080' });
  });

  it('drops trailer fields that must not be trailers (RFC 9110 §6.5.1) before the app reads them', async () => {
    const body = '5\r\nhello\r\n0\r\nAuthorization: Bearer smuggled\r\nHost: evil\r\nX-Checksum: abc\r\n\r\n';
    const answer = await exchange(`POST /trailers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen().at(-1)).toEqual({ url: '/trailers', host: 'a', trailers: { 'x-checksum': 'abc' } });
  });

  it('applies the same checks to an upgrade: two Host fields never reach the app', async () => {
    const before = seen().length;
    const answer = await exchange('GET /ws HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(seen().slice(before)).toEqual([]);
  });
});
