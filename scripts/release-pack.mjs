#!/usr/bin/env node
// `pnpm release:pack [--out DIR]`: packs every publishable package into DIR (dist-packages/ by
// default) with `pnpm pack`, which rewrites `workspace:*` to the packed version and adds the root
// LICENSE to a package that has none. `npm publish DIR/*.tgz` then publishes exactly these files.
// Run after a build (`pnpm release:pack` builds first).
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, publishablePackages, sharedVersion } from './packages.mjs';

const run = promisify(execFile);
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = resolve(outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : join(ROOT, 'dist-packages'));

async function main() {
  const packages = publishablePackages();
  const version = sharedVersion(packages);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // pnpm is whatever runs this script (npm_execpath) or the one on PATH.
  const pnpm = process.env.npm_execpath?.includes('pnpm') ? [process.execPath, [process.env.npm_execpath]] : ['pnpm', []];
  // One recursive pnpm run rather than one per package: most of a `pnpm pack` is pnpm starting.
  const filters = packages.flatMap((pkg) => ['--filter', pkg.name]);
  await run(pnpm[0], [...pnpm[1], '--recursive', ...filters, 'pack', '--pack-destination', out], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const tarballs = readdirSync(out).filter((name) => name.endsWith('.tgz')).sort();
  if (tarballs.length !== packages.length) throw new Error(`expected ${packages.length} tarballs in ${out}, found ${tarballs.join(', ')}`);
  process.stdout.write(`${tarballs.map((name) => join(out, name)).join('\n')}\n${tarballs.length} packages at ${version} packed into ${out}\n`);
}

main().catch((err) => {
  process.stderr.write(`release:pack: ${err.stderr || err.message}\n`);
  process.exit(1);
});
