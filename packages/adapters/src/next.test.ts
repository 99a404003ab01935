import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isNextDir } from './next.js';

describe('isNextDir', () => {
  const dirs: string[] = [];
  const dir = () => {
    const made = mkdtempSync(join(tmpdir(), 'ndcx-'));
    dirs.push(made);
    return made;
  };
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('takes a directory with a next.config.* or a .next build for a Next.js app, and nothing else', () => {
    const config = dir();
    writeFileSync(join(config, 'next.config.mjs'), 'export default {};');
    const built = dir();
    mkdirSync(join(built, '.next'));
    writeFileSync(join(built, '.next', 'BUILD_ID'), 'x');
    const plain = dir();
    writeFileSync(join(plain, 'app.mjs'), '');
    expect([isNextDir(config), isNextDir(built), isNextDir(plain), isNextDir(join(plain, 'app.mjs')), isNextDir(join(plain, 'nope'))]).toEqual([true, true, false, false, false]);
  });
});
