#!/usr/bin/env node
// `pnpm release:version VERSION|major|minor|patch`: moves every publishable package to the next
// version together (one fixed version for all, so @nodicorn/cli X.Y.Z always runs on
// @nodicorn/server X.Y.Z), and turns CHANGELOG.md's "## Unreleased" into that version's entry.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, publishablePackages, sharedVersion } from './packages.mjs';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;

function next(current, wanted) {
  const [, major, minor, patch] = SEMVER.exec(current).map(Number);
  if (wanted === 'major') return `${major + 1}.0.0`;
  if (wanted === 'minor') return `${major}.${minor + 1}.0`;
  if (wanted === 'patch') return `${major}.${minor}.${patch + 1}`;
  if (SEMVER.test(wanted)) return wanted;
  throw new Error(`expected a version (1.2.3) or major, minor, patch; got "${wanted}"`);
}

function main() {
  const wanted = process.argv[2];
  if (!wanted) {
    process.stderr.write('usage: pnpm release:version VERSION|major|minor|patch\n');
    process.exitCode = 2;
    return;
  }
  const packages = publishablePackages();
  const current = sharedVersion(packages);
  const version = next(current, wanted);
  if (version === current) throw new Error(`the packages are already at ${version}`);

  for (const pkg of packages) {
    const text = readFileSync(pkg.file, 'utf8');
    // Replace the one "version" line rather than re-serialising, so the file's layout is untouched.
    writeFileSync(pkg.file, text.replace(/^(\s*"version":\s*)"[^"]*"/m, `$1"${version}"`));
  }

  const changelog = join(ROOT, 'CHANGELOG.md');
  const text = readFileSync(changelog, 'utf8');
  const date = new Date().toISOString().slice(0, 10);
  if (/^## Unreleased$/m.test(text)) {
    writeFileSync(changelog, text.replace(/^## Unreleased$/m, `## Unreleased\n\n## ${version} (${date})`));
  } else {
    process.stderr.write(`CHANGELOG.md has no "## Unreleased" section; add the ${version} entry by hand.\n`);
  }
  process.stdout.write(`${packages.map((p) => p.name).join(', ')}: ${current} -> ${version}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`release:version: ${err.message}\n`);
  process.exit(1);
}
