import { afterEach, describe, expect, it } from 'vitest';
import { request, runCleanups } from '@nodicorn/testkit';
import { plainUpstream, rawExchange, startProxy, startUpstream, statuses } from './helpers.js';

afterEach(runCleanups);

/**
 * Classic desync payloads (PortSwigger's CL.TE, TE.CL, TE.TE; RFC 9112 §6.3 duplicate
 * Content-Length; RFC 9112 §5.2 obs-fold). Each hides a second request naming a marker path; the
 * proxy must reject the message or treat the hidden part as body, so the app never sees a request
 * for the marker.
 */
const ATTACKS: Record<string, string> = {
  'CL.TE': 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled-clte HTTP/1.1\r\nX: y',
  'TE.CL': 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2d\r\nGET /smuggled-tecl HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n',
  'TE.TE duplicate': 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled-tete HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n',
  'TE.TE obfuscated': 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled-tete2 HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n',
  'TE with space before colon': 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\nGET /smuggled-space HTTP/1.1\r\nHost: x\r\n\r\n',
  'duplicate Content-Length': 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 44\r\n\r\nGET /smuggled-dupcl HTTP/1.1\r\nHost: x\r\n\r\n',
  'obs-fold Transfer-Encoding': 'POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\nGET /smuggled-fold HTTP/1.1\r\nHost: x\r\n\r\n',
  'chunk size overflow': 'POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nGET /smuggled-ovf HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n',
  'bare LF line endings': 'POST /a HTTP/1.1\nHost: x\nContent-Length: 4\nTransfer-Encoding: chunked\n\n0\n\nGET /smuggled-lf HTTP/1.1\nHost: x\n\n',
};

describe('request smuggling attempts on raw sockets', () => {
  it('never reach the app as two requests', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`]);
    for (const [name, payload] of Object.entries(ATTACKS)) {
      const raw = await rawExchange(proxy.port, payload, 700);
      const codes = statuses(raw);
      // Rejected outright (400) or one request answered; never a second response for the hidden one.
      expect(codes.length, `${name}: ${JSON.stringify(raw.slice(0, 200))}`).toBeLessThanOrEqual(1);
    }
    const seen = JSON.parse((await request({ socketPath: up.socket, path: '/count' })).body) as { seen: string[] };
    expect(seen.seen.filter((s) => s.includes('smuggled'))).toEqual([]);
    expect(seen.seen.filter((s) => s.startsWith('POST')).length).toBeLessThanOrEqual(Object.keys(ATTACKS).length);
    expect((await request({ url: proxy.http, path: '/' })).status).toBe(200);
  });
});

/**
 * Requests RFC 9110/9112 say a server must refuse (issue 11 items 12, 13, 16 and request-parsing
 * conformance). Each is followed on the same connection by a request for a marker path: the proxy
 * answers the refusal with `Connection: close` and the marker must never reach the app.
 */
const REFUSED: Record<string, [string, number]> = {
  'two Host fields': ['GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n', 400],
  'Host with a space': ['GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
  'Host with a path': ['GET / HTTP/1.1\r\nHost: evil/../x\r\n\r\n', 400],
  'empty Host': ['GET / HTTP/1.1\r\nHost: \r\n\r\n', 400],
  'HTTP/1.1 without Host': ['GET / HTTP/1.1\r\nX: y\r\n\r\n', 400],
  'control character in a value': ['GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n', 400],
  'DEL in a value': ['GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n', 400],
  'HTTP/2.0 request line': ['GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
  'HTTP/0.9 request line': ['GET / HTTP/0.9\r\nHost: x\r\n\r\n', 505],
  'HTTP/1.2 request line': ['GET / HTTP/1.2\r\nHost: x\r\n\r\n', 400],
  'TE identity, chunked': ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n', 501],
  'two TE fields': ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  TRACE: ['TRACE / HTTP/1.1\r\nHost: x\r\nCookie: secret=1\r\n\r\n', 405],
  'oversized header (431)': [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  // nginx's large_client_header_buffers 8k, below Node's 16 KB head limit: refused at the edge, never forwarded.
  'a 10 KB request line (414)': [`GET /${'a'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414],
  'a 10 KB field (431)': [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`, 431],
};

describe('requests the proxy must refuse', () => {
  it('answers each with its status, closes, and runs nothing after it on the connection', async () => {
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`]);
    const names = Object.keys(REFUSED);
    for (const [i, name] of names.entries()) {
      const [payload, status] = REFUSED[name]!;
      const raw = await rawExchange(proxy.port, `${payload}GET /after-refusal-${i} HTTP/1.1\r\nHost: x\r\n\r\n`, 700);
      expect(statuses(raw), `${name}: ${JSON.stringify(raw.slice(0, 200))}`).toEqual([status]);
      if (status === 405) expect(raw).toMatch(/\r\nallow: /i);
      // The proxy's own page, as nginx answers with its own, never a bare status or the upstream's.
      expect(raw, name).toMatch(/content-type: text\/html; charset=utf-8\r\n[\s\S]*nodicorn proxy/i);
    }
    const seen = JSON.parse((await request({ socketPath: up.socket, path: '/count' })).body) as { seen: string[] };
    expect(seen.seen.filter((s) => s.includes('after-refusal') || s.startsWith('TRACE'))).toEqual([]);
    // Requests before a parse error are still answered, in order, then the error, then nothing.
    const mixed = await rawExchange(proxy.port, 'GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\nGET /after-mixed HTTP/1.1\r\nHost: x\r\n\r\n', 1500);
    expect(statuses(mixed)).toEqual([200, 400]);
    expect(mixed.indexOf('{"slow":true}')).toBeLessThan(mixed.indexOf('400 Bad Request'));
    // A valid Host (name, IPv4, IPv6 literal, port) still passes.
    for (const host of ['app.example:8080', '127.0.0.1', '[::1]:80']) {
      expect((await request({ url: proxy.http, path: '/' }, { headers: { host } })).status, host).toBe(200);
    }
  });
});

describe('request trailers', () => {
  it('never passes a trailer upstream, with request buffering on or off (RFC 9110 §6.5.1)', async () => {
    const trailers = ['Host: evil-trailer.example\r\nAuthorization: Basic ZXZpbA==', 'Content-Length: 99\r\nHost: evil-trailer.example'];
    for (const buffering of ['on', 'off']) {
      const up = await plainUpstream();
      const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--request-buffering', buffering]);
      for (const trailer of trailers) {
        const raw = await rawExchange(proxy.port, `POST /t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n${trailer}\r\n\r\n`, 700);
        // Answered (trailer dropped) or refused (llhttp refuses Content-Length in a trailer): never hung.
        expect(statuses(raw).length, `${buffering} ${trailer}: ${JSON.stringify(raw)}`).toBe(1);
      }
      expect(up.received(), buffering).toMatch(/^POST \/t HTTP\/1\.1\r\n/);
      expect(up.received(), buffering).not.toMatch(/evil-trailer|Content-Length: 99|ZXZpbA/i);
    }
  });
});
