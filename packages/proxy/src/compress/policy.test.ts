import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addVary, Compression, listFields } from './policy.js';

const compression = new Compression({ types: ['text/*', 'application/json image/svg+xml'], minLength: 256, levels: { gzip: 1, brotli: 4, zstd: 3 }, offered: ['br', 'gzip'] });
const req = (headers: Record<string, string> = { 'accept-encoding': 'gzip' }, method = 'GET', httpVersion = '1.1') => ({ method, httpVersion, headers }) as unknown as IncomingMessage;
const decide = (list: string[], status = 200, r = req()) => ({ chosen: compression.decide(r, status, listFields(list)), list });

describe('Compression.decide', () => {
  it('compresses an eligible response: Content-Encoding set, length and ranges dropped, strong ETag made weak, Vary added', () => {
    const { chosen, list } = decide(['Content-Type', 'application/json; charset=utf-8', 'Content-Length', '5000', 'ETag', '"abc"', 'Accept-Ranges', 'bytes', 'Vary', 'Origin']);
    expect(chosen).toEqual({ encoding: 'gzip', text: true, length: 5000 });
    expect(list).toEqual(['Content-Type', 'application/json; charset=utf-8', 'vary', 'Origin, Accept-Encoding', 'content-encoding', 'gzip', 'etag', 'W/"abc"']);
  });

  it('keeps a weak ETag and does not repeat Accept-Encoding in Vary', () => {
    const { list } = decide(['content-type', 'text/html', 'etag', 'W/"x"', 'vary', 'accept-encoding']);
    expect(list).toEqual(['content-type', 'text/html', 'etag', 'W/"x"', 'vary', 'accept-encoding', 'content-encoding', 'gzip']);
  });

  it.each([
    ['a 206', ['content-type', 'text/plain', 'content-range', 'bytes 0-9/100'], 206],
    ['a 204', ['content-type', 'text/plain'], 204],
    ['a 304', ['content-type', 'text/plain'], 304],
    ['a 500', ['content-type', 'text/plain'], 500],
    ['an encoded body', ['content-type', 'text/plain', 'content-encoding', 'gzip'], 200],
    ['no-transform', ['content-type', 'text/plain', 'cache-control', 'public, no-transform'], 200],
    ['an event stream', ['content-type', 'text/event-stream'], 200],
    ['a type not listed', ['content-type', 'image/png'], 200],
    ['no type', [], 200],
    ['a short body', ['content-type', 'text/plain', 'content-length', '255'], 200],
    ['an empty body', ['content-type', 'text/plain', 'content-length', '0'], 200],
  ])('leaves %s alone, Vary included', (_what, list, status) => {
    const copy = [...list];
    expect(decide(list, status).chosen).toBeNull();
    expect(list).toEqual(copy);
  });

  it.each([
    ['HEAD', req({ 'accept-encoding': 'gzip' }, 'HEAD')],
    ['Range', req({ 'accept-encoding': 'gzip', range: 'bytes=0-1' })],
    ['HTTP/1.0', req({ 'accept-encoding': 'gzip' }, 'GET', '1.0')],
    ['no Accept-Encoding', req({})],
    ['q=0', req({ 'accept-encoding': 'gzip;q=0, br;q=0' })],
  ])('sends identity, with Vary, for %s', (_what, r) => {
    const { chosen, list } = decide(['content-type', 'text/plain', 'content-length', '1000'], 200, r);
    expect(chosen).toBeNull();
    expect(list).toEqual(['content-type', 'text/plain', 'content-length', '1000', 'vary', 'Accept-Encoding']);
  });

  it('compresses a body of unknown length and prefers br', () => {
    expect(decide(['content-type', 'image/svg+xml'], 200, req({ 'accept-encoding': 'gzip, br' })).chosen).toEqual({ encoding: 'br', text: true, length: undefined });
    expect(decide(['content-type', 'text/plain'], 404).chosen?.encoding).toBe('gzip');
  });
});

describe('typeMatches', () => {
  it('matches exact types, type/* and *, ignoring parameters and case, never text/event-stream', () => {
    expect(compression.typeMatches('Text/CSS; charset=utf-8')).toBe(true);
    expect(compression.typeMatches('image/svg+xml')).toBe(true);
    expect(compression.typeMatches('application/octet-stream')).toBe(false);
    const any = new Compression({ types: ['*'], minLength: 0, levels: { gzip: 1, brotli: 4, zstd: 3 } });
    expect(any.typeMatches('application/octet-stream')).toBe(true);
    expect(any.typeMatches('text/event-stream; charset=utf-8')).toBe(false);
    expect(any.typeMatches('nonsense')).toBe(false);
  });
});

describe('addVary', () => {
  it('leaves Vary: * alone', () => {
    const list = ['vary', '*'];
    addVary(listFields(list));
    expect(list).toEqual(['vary', '*']);
  });
});
