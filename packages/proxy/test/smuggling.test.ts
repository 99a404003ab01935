import { afterEach, describe, expect, it } from 'vitest';
import { request, runCleanups } from '@nodicorn/testkit';
import { rawExchange, startProxy, startUpstream, statuses } from './helpers.js';

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
