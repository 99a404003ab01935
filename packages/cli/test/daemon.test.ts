// -D/--daemon, as Gunicorn's: detached in its own session, the command returns once it serves.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, NODICORN_BIN, onCleanup, request, runCleanups, running, tempDir, until } from '@nodicorn/testkit';

afterEach(runCleanups);

const nodicorn = (args: string[], cwd: string) => spawnSync(process.execPath, [NODICORN_BIN, ...args], { cwd, encoding: 'utf8', timeout: 30_000 });

describe('nodicorn -D', () => {
  it('returns once the detached server serves, which runs on in its own session until TERM', async () => {
    const dir = tempDir('ndc-daemon-');
    writeFileSync(join(dir, 'app.mjs'), `export const app = (req, res) => res.end('from the daemon');\n`);
    const port = await freePort();
    const r = nodicorn(['-D', '-b', `127.0.0.1:${port}`, '--pid', 'app.pid', '--error-logfile', 'error.log', 'app.mjs:app'], dir);
    expect(r.status, r.stderr).toBe(0);
    const pid = Number(/running in the background \(pid (\d+)\); error log: .*error\.log/.exec(r.stdout)?.[1]);
    onCleanup(() => {
      if (running(pid)) process.kill(pid, 'SIGKILL');
    });
    expect(Number(readFileSync(join(dir, 'app.pid'), 'utf8'))).toBe(pid);
    // Its own session (setsid), no longer a child of the command.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    expect(Number(stat[3])).toBe(pid); // session id
    expect((await request({ url: `http://127.0.0.1:${port}` })).body).toBe('from the daemon');
    process.kill(pid, 'SIGTERM');
    await until(() => !running(pid), 15_000, 'the daemon to stop on TERM');
    expect(readFileSync(join(dir, 'error.log'), 'utf8')).toMatch(/Shutting down: Master \(exit 0\)/);
  });

  it('an app that cannot boot is still one error and its exit code here, not a silent background failure', () => {
    const dir = tempDir('ndc-daemon-');
    writeFileSync(join(dir, 'app.mjs'), `throw new Error('database URL missing');\n`);
    const r = nodicorn(['-D', '-b', '127.0.0.1:0', 'app.mjs:app'], dir);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/threw while being imported: Error: database URL missing/);
    expect(r.stdout).not.toMatch(/running in the background/);
  });
});
