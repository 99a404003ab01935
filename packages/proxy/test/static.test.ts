import { brotliCompressSync } from 'node:zlib';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request, runCleanups, tempDir } from '@nodicorn/testkit';
import { rawExchange, startProxy, statuses, type RunningProxy } from './helpers.js';

afterEach(runCleanups);

let proxy: RunningProxy;
const BODY = 'abcdefghijklmnopqrstuvwxyz'.repeat(200);

beforeEach(async () => {
  const dir = tempDir('ndcpx-');
  const root = join(dir, 'public');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(root, 'docs', 'index.html'), '<h1>docs</h1>');
  writeFileSync(join(root, 'app.js'), BODY);
  writeFileSync(join(root, 'app.js.br'), brotliCompressSync(BODY));
  writeFileSync(join(root, 'app.3f9a1c2b.js'), 'hashed');
  writeFileSync(join(root, '.env'), 'SECRET=1');
  writeFileSync(join(dir, 'outside.txt'), 'outside the root');
  symlinkSync(join(dir, 'outside.txt'), join(root, 'escape.txt'));
  // issue 11 item 6: a real file whose precompressed siblings point out of the root.
  writeFileSync(join(root, 'pc.txt'), 'plain pc');
  symlinkSync(join(dir, 'outside.txt'), join(root, 'pc.txt.br'));
  symlinkSync('/etc/passwd', join(root, 'pc.txt.gz'));
  proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--static', `/assets=${root}`], { cwd: dir });
});

describe('static mounts', () => {
  it('serves files with ETag/Last-Modified, 304, 412 and index.html', async () => {
    const first = await request({ url: proxy.http, path: '/assets/app.js' });
    expect(first.status).toBe(200);
    expect(first.body).toBe(BODY);
    expect(first.headers['content-type']).toMatch(/javascript/);
    expect(first.headers['cache-control']).toBe('public, max-age=0');
    expect(first.headers.vary).toBe('Accept-Encoding');
    const etag = first.headers.etag!;
    // Asked twice more so the answer also comes from the small-file cache.
    for (let i = 0; i < 2; i++) expect((await request({ url: proxy.http, path: '/assets/app.js' })).headers.etag).toBe(etag);
    expect((await request({ url: proxy.http, path: '/assets/app.js' }, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await request({ url: proxy.http, path: '/assets/app.js' }, { headers: { 'if-modified-since': first.headers['last-modified']! } })).status).toBe(304);
    expect((await request({ url: proxy.http, path: '/assets/app.js' }, { headers: { 'if-match': '"nope"' } })).status).toBe(412);
    expect((await request({ url: proxy.http, path: '/assets/' })).body).toBe('<h1>home</h1>');
    const dirNoSlash = await request({ url: proxy.http, path: '/assets/docs?x=1' });
    expect([dirNoSlash.status, dirNoSlash.headers.location]).toEqual([301, '/assets/docs/?x=1']);
    expect((await request({ url: proxy.http, path: '/assets/docs/' })).body).toBe('<h1>docs</h1>');
  });

  it('answers Range requests with 206 and unsatisfiable ones with 416', async () => {
    const part = await request({ url: proxy.http, path: '/assets/app.js' }, { headers: { range: 'bytes=2-5' } });
    expect([part.status, part.body, part.headers['content-range']]).toEqual([206, 'cdef', `bytes 2-5/${BODY.length}`]);
    expect((await request({ url: proxy.http, path: '/assets/app.js' }, { headers: { range: 'bytes=999999-' } })).status).toBe(416);
  });

  it('serves the precompressed .br sibling to clients that accept it', async () => {
    const res = await request({ url: proxy.http, path: '/assets/app.js' }, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(Number(res.headers['content-length'])).toBe(brotliCompressSync(BODY).length);
  });

  it('marks content-hashed names immutable', async () => {
    const res = await request({ url: proxy.http, path: '/assets/app.3f9a1c2b.js' });
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('refuses traversal, encoded separators, NUL, backslashes, dotfiles and symlinks out of the root', async () => {
    const attempts = [
      '/assets/../outside.txt',
      '/assets/%2e%2e/outside.txt',
      '/assets/%2E%2E%2Foutside.txt',
      '/assets/..%2foutside.txt',
      '/assets/..%5coutside.txt',
      '/assets/docs/..%2f..%2foutside.txt',
      '/assets/.%2e/outside.txt',
      '/assets/app.js%00.png',
      '/assets/..\\outside.txt',
      '/assets/.env',
      '/assets/%2eenv',
      '/assets/escape.txt',
      '/assets/nothing-here.js',
      '/assets/%',
    ];
    for (const path of attempts) {
      // Raw bytes, so no client library normalises the path first.
      const raw = await rawExchange(proxy.port, `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      const [status] = statuses(raw);
      expect([400, 403, 404], `${path} -> ${status}`).toContain(status);
      expect(raw).not.toContain('outside the root');
      expect(raw).not.toContain('SECRET');
    }
  });

  it('never sends a precompressed sibling that is a symlink out of the root', async () => {
    for (const encoding of ['br', 'gzip', 'gzip, br']) {
      // Twice: the second answer comes from the variant and small-file caches.
      for (let i = 0; i < 2; i++) {
        const raw = await rawExchange(proxy.port, `GET /assets/pc.txt HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: ${encoding}\r\nConnection: close\r\n\r\n`);
        expect(statuses(raw)).toEqual([200]);
        expect(raw).not.toMatch(/content-encoding/i);
        expect(raw).toContain('plain pc');
        expect(raw).not.toContain('outside the root');
        expect(raw).not.toContain('root:');
      }
    }
  });

  it('answers 404 from the proxy outside every mount', async () => {
    const res = await request({ url: proxy.http, path: '/elsewhere' });
    expect(res.status).toBe(404);
    expect(res.body).toContain('404 Not Found');
  });
});
