import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@nodicorn/testkit';

/** A plain request listener with endpoints the process tests drive. */
export const BASIC_APP = `
import { setTimeout as sleep } from 'node:timers/promises';
export const app = async (req, res) => {
  const url = new URL(req.url, 'http://x');
  // A POST handler reads its body first, as real ones do: bad framing then surfaces as an error.
  if (req.method === 'POST') { for await (const _ of req); }
  if (url.pathname === '/spin') { while (true) {} }
  if (url.pathname === '/throw') throw new Error('handler exploded');
  if (url.pathname === '/slow') { process.stderr.write('SLOW REQUEST ' + process.pid + '\\n'); await sleep(Number(url.searchParams.get('ms') ?? 500)); }
  if (url.pathname === '/env') { res.end(process.env[url.searchParams.get('name')] ?? ''); return; }
  if (url.pathname === '/crash') { setImmediate(() => { throw new Error('crash on purpose'); }); }
  res.setHeader('content-type', 'text/plain');
  res.end(String(process.pid));
};
export default app;
export function createApp(greeting = 'hi', times = 1) {
  return (req, res) => res.end(greeting.repeat(times));
}
export const lifecycle = {
  startup() { process.stderr.write('STARTUP ' + process.pid + '\\n'); },
  handle(req, res) { res.end('object app'); },
  shutdown() { process.stderr.write('SHUTDOWN ' + process.pid + '\\n'); },
};
export const notAnApp = 42;
`;

/** A temp dir (readable by other users, for --user tests) holding the given files. */
export function appDir(files: Record<string, string> = { 'app.mjs': BASIC_APP }): string {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o644 });
  return dir;
}
