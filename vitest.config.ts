import { defineConfig } from 'vitest/config';

// One vitest run covers the whole monorepo. Logic tests sit beside the code (`src/**/*.test.ts`);
// process tests (real children, sockets, signals) live in each package's `test/` folder and run
// against the built `dist/`, so `pnpm test` builds first.
const project = (name: string, root: string) => ({
  test: {
    name,
    root,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      project('settings', 'packages/settings'),
      project('adapters', 'packages/adapters'),
      project('server', 'packages/server'),
      project('proxy', 'packages/proxy'),
      project('cli', 'packages/cli'),
      project('bench', 'bench'),
      project('demo', 'apps/demo'),
      // The packages as published: packed, put in a local registry, installed alone (test/).
      { test: { name: 'packages', root: '.', include: ['test/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 240_000, maxConcurrency: 2 } },
    ],
  },
});
