import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPids, runCleanups, startNodicorn, tempDir } from '@nodicorn/testkit';
import { afterEach, expect, it } from 'vitest';
import { conformance } from './conformance.js';

conformance('fastify');

afterEach(runCleanups);

it("runs Fastify's onClose hooks in every worker on a graceful stop, through app.close()", async () => {
  const log = join(tempDir('ndcf-'), 'closed.log');
  const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
  const server = await startNodicorn(['-w', '2', '-b', '127.0.0.1:0', '--chdir', fixtures, '-e', `SHUTDOWN_LOG=${log}`, 'fastify-app.mjs:app']);
  const workers = childPids(server.pid);
  server.signal('SIGTERM');
  expect(await server.exited()).toBe(0);
  expect(readFileSync(log, 'utf8').trim().split('\n').map(Number).sort()).toEqual(workers.sort());
});
