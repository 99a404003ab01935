// The packages a release publishes, read from the workspace: every non-private package under
// packages/. They share one version (a fixed scheme): a release bumps them all together.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** @returns {{ name: string, version: string, dir: string, file: string }[]} */
export function publishablePackages() {
  const base = join(ROOT, 'packages');
  return readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const file = join(base, entry.name, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      return { name: pkg.name, version: pkg.version, private: pkg.private === true, dir: join(base, entry.name), file };
    })
    .filter((pkg) => !pkg.private)
    .map(({ name, version, dir, file }) => ({ name, version, dir, file }));
}

/** The one version every publishable package carries; throws when they have drifted apart. */
export function sharedVersion(packages = publishablePackages()) {
  const versions = new Set(packages.map((pkg) => pkg.version));
  if (versions.size !== 1) {
    throw new Error(`the packages must share one version, found ${packages.map((p) => `${p.name}@${p.version}`).join(', ')}; run pnpm release:version VERSION`);
  }
  return [...versions][0];
}
