import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A child that writes to stdout after its reader has gone, then says on stderr whether it lived. */
function writerAfterReaderGone(mute: boolean): Promise<{ code: number | null; stderr: string }> {
  // The built module, as the server and proxy load it (`pnpm test` builds first).
  const stdio = new URL('../../dist/process/stdio.js', import.meta.url).href;
  const script = `
    const { muteBrokenStdio, stdioWritable } = await import(${JSON.stringify(stdio)});
    if (${mute}) { muteBrokenStdio(); muteBrokenStdio(); }
    process.stdin.once('data', () => {
      process.stdin.destroy();
      for (let i = 0; i < 50; i++) process.stdout.write('line after the reader left\\n');
      setTimeout(() => process.stderr.write('alive writable=' + stdioWritable(process.stdout) + ' listeners=' + process.stdout.listenerCount('error') + '\\n'), 200);
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  child.stdout!.destroy();
  child.stdin!.write('go\n');
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

describe('muteBrokenStdio', () => {
  it('keeps a process alive when its stdout reader goes away, once however often it is called', async () => {
    const { code, stderr } = await writerAfterReaderGone(true);
    expect(stderr).toContain('alive writable=false listeners=1');
    expect(code).toBe(0);
  });
  it('is what keeps it alive: without it, the EPIPE kills the process', async () => {
    const { code, stderr } = await writerAfterReaderGone(false);
    expect(stderr).toMatch(/EPIPE/);
    expect(code).not.toBe(0);
  });
});
