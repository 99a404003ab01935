import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPids, runCleanups, startNodicorn, tempDir } from '@nodicorn/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { conformance } from './conformance.js';

conformance('nest-express');
conformance('nest-fastify');

describe('NestJS lifecycle under nodicorn', () => {
  afterEach(runCleanups);

  for (const platform of ['express', 'fastify'] as const) {
    it(`runs onModuleDestroy and beforeApplicationShutdown in every worker on a graceful stop, through app.close() (${platform})`, async () => {
      const log = join(tempDir('ndcn-'), 'hooks.log');
      const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
      const server = await startNodicorn(['-w', '2', '-b', '127.0.0.1:0', '--chdir', fixtures, '-e', `SHUTDOWN_LOG=${log}`, `nest-${platform}-app.mjs:app`]);
      const workers = childPids(server.pid).sort();
      server.signal('SIGTERM');
      expect(await server.exited()).toBe(0);
      const lines = readFileSync(log, 'utf8').trim().split('\n').sort();
      const expected = workers.flatMap((pid) => [`${pid} beforeApplicationShutdown`, `${pid} onModuleDestroy`]).sort();
      expect(lines).toEqual(expected);
    });
  }
});
