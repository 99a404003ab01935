// Attack: `kill -USR1` on the proxy (what logrotate sends nginx) must never open Node's inspector,
// which any local user could then drive; it reopens the access log, as nginx does.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listeningPorts, request, runCleanups, tempDir, until } from '@nodicorn/testkit';
import { startProxy, startUpstream } from './helpers.js';

afterEach(runCleanups);

describe('nodicorn proxy: SIGUSR1', () => {
  it('survives a USR1 storm with no inspector, and reopens its access log for logrotate', async () => {
    const upstream = await startUpstream();
    const dir = tempDir('ndcu-');
    const log = join(dir, 'access.log');
    const proxy = await startProxy(['--listen', 'http://127.0.0.1:0', '--upstream', `unix:${upstream.socket}`, '--access-log', log]);
    expect((await request({ url: proxy.http, path: '/before' })).status).toBe(200);
    await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('/before'), 10_000, 'the first access line');
    renameSync(log, `${log}.1`);
    const stormUntil = Date.now() + 1000;
    let sent = 0;
    while (Date.now() < stormUntil) {
      proxy.proc.signal('SIGUSR1');
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(sent).toBeGreaterThan(30);
    expect((await request({ url: proxy.http, path: '/after' })).status).toBe(200);
    await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('/after'), 10_000, 'an access line in the reopened file');
    expect(readFileSync(`${log}.1`, 'utf8')).not.toContain('/after');
    expect(proxy.proc.output()).not.toMatch(/Debugger listening|inspector/i);
    expect(listeningPorts(proxy.proc.pid)).toEqual([proxy.port]);
  });
});
