import { spawn } from 'node:child_process';
import type { RunningMaster } from '@nodicorn/server';

/** Set in the detached copy, so it serves instead of detaching again. */
const DAEMON_ENV = 'NODICORN_DAEMONIZED';

export const isDaemonChild = (env: NodeJS.ProcessEnv = process.env): boolean => env[DAEMON_ENV] === '1';

/**
 * -D/--daemon, as Gunicorn's: the server runs on detached in its own session, and the command
 * returns. Unlike a bare fork, the command waits until the server is ready (or has failed), so a
 * broken app or bind is still one line and a non-zero exit here, not a silent background failure.
 */
export function daemonize(argv: readonly string[], bin: string, errorlog: string): Promise<number> {
  const args = argv.filter((arg) => arg !== '-D' && arg !== '--daemon');
  const child = spawn(process.execPath, [...process.execArgv, bin, ...args], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, [DAEMON_ENV]: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<number>((resolve) => {
    child.on('message', (message: { type?: string }) => {
      if (message?.type !== 'daemon-ready') return;
      const where = errorlog === '-' ? '; its error log is stderr, which a daemon does not have (use --error-logfile FILE)' : `; error log: ${errorlog}`;
      process.stdout.write(`nodicorn: running in the background (pid ${child.pid})${where}\n`);
      child.stderr!.destroy();
      child.disconnect();
      child.unref();
      resolve(0);
    });
    child.on('exit', (code, signal) => {
      process.stderr.write(stderr);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** In the detached copy: tell the waiting command once the master serves, then let go of it. */
export function notifyWhenReady(master: RunningMaster): void {
  if (!process.send) return;
  const ready = () => {
    process.send?.({ type: 'daemon-ready' }, undefined, undefined, () => process.disconnect?.());
  };
  if (master.arbiter.state === 'running') ready();
  else {
    const onState = (state: string) => {
      if (state !== 'running') return;
      master.arbiter.off('state', onState);
      ready();
    };
    master.arbiter.on('state', onState);
  }
}
