import { chownSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { request, runCleanups, tempDir, until } from '@nodicorn/testkit';
import { startProxy, startUpstream } from './helpers.js';

afterEach(runCleanups);

const NOBODY = 65534;

describe('proxy buffer files (issue 11 item 9)', () => {
  it('ignores squatted predictable names: buffers land in a private 0700 mkdtemp dir, removed on exit', async () => {
    const shared = tempDir('ndctmp-');
    const up = await startUpstream();
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${up.socket}`, '--buffer-size', '16k', '--max-body', '2m'], {
      env: { ...process.env, TMPDIR: shared },
    });
    // The attack: another user pre-creates the names the proxy used to open in the shared temp dir.
    const squatted: string[] = [];
    for (let n = 1; n <= 20; n++) {
      const path = join(shared, `nodicorn-proxy-${proxy.proc.pid}-${n}.tmp`);
      writeFileSync(path, 'squatter');
      chownSync(path, NOBODY, NOBODY);
      squatted.push(path);
    }
    for (let i = 0; i < 3; i++) {
      const res = await request({ url: proxy.http, path: '/' }, { method: 'PUT', body: Buffer.alloc(1024 * 1024 + 7, 1) });
      expect((JSON.parse(res.body) as { size: number }).size).toBe(1024 * 1024 + 7);
      const big = await request({ url: proxy.http, path: '/big?bytes=3000000' });
      expect(big.body.length).toBe(3_000_000);
    }
    for (const path of squatted) expect(readFileSync(path, 'utf8')).toBe('squatter');
    const made = readdirSync(shared).filter((name) => !squatted.includes(join(shared, name)));
    expect(made).toHaveLength(1);
    expect(made[0]).toMatch(/^nodicorn-proxy-\w{6}$/);
    const dir = join(shared, made[0]!);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(dir).uid).toBe(process.getuid!());
    // Files are unlinked as soon as they are open, so the private dir stays empty.
    expect(readdirSync(dir)).toEqual([]);
    proxy.proc.signal('SIGTERM');
    await proxy.proc.exited();
    await until(() => !readdirSync(shared).includes(made[0]!), 5000, 'private temp dir removed');
  });
});
