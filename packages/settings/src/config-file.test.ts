import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCleanups, tempDir } from '@nodicorn/testkit';
import { readConfigFile } from './config-file.js';
import { schemaOf } from './test-fixtures/list.js';

const dir = tempDir('ndc-settings-');
afterAll(runCleanups);
const schema = schemaOf({ defaultConfigFiles: './tool.config.{mjs,json}' });
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('readConfigFile', () => {
  it('reads .json, .mjs, .js and .cjs, fresh on every read', async () => {
    const mjs = file('a.mjs', 'export default { workers: 2 };');
    expect(await readConfigFile(schema, mjs)).toEqual({ workers: 2 });
    writeFileSync(mjs, 'export default { workers: 3 };');
    expect(await readConfigFile(schema, mjs)).toEqual({ workers: 3 });
    const cjs = file('b.cjs', 'module.exports = { timeout: 5 };');
    expect(await readConfigFile(schema, cjs)).toEqual({ timeout: 5 });
    writeFileSync(cjs, 'module.exports = { timeout: 6 };');
    expect(await readConfigFile(schema, cjs)).toEqual({ timeout: 6 });
    expect(await readConfigFile(schema, file('c.json', '{ "gzip": true }'))).toEqual({ gzip: true });
    expect(await readConfigFile(schema, file('d.js', 'export default { daemon: true };'))).toEqual({ daemon: true });
  });

  it('calls a default export that is a function, and takes named exports without one', async () => {
    expect(await readConfigFile(schema, file('e.mjs', 'export default async () => ({ workers: 7 });'))).toEqual({ workers: 7 });
    expect({ ...((await readConfigFile(schema, file('f.mjs', 'export const workers = 8;'))) as object) }).toEqual({ workers: 8 });
  });

  it('says in one line what is wrong with the file', async () => {
    await expect(readConfigFile(schema, join(dir, 'nope.mjs'))).rejects.toMatchObject({
      problem: 'config-file',
      message: `Config file ${join(dir, 'nope.mjs')} not found (from -c/--config). Check the path, or drop -c to use ./tool.config.{mjs,json}.`,
    });
    await expect(readConfigFile(schema, file('g.py', 'x'))).rejects.toThrow(/g\.py: must end in \.json, \.mjs, \.js or \.cjs\.$/);
    await expect(readConfigFile(schema, file('h.json', '{ bad'))).rejects.toThrow(/h\.json: is not valid JSON \(.+\)\.$/);
    await expect(readConfigFile(schema, file('i.mjs', 'throw new Error("oops")'))).rejects.toThrow(/i\.mjs: could not be loaded: Error: oops$/);
    await expect(readConfigFile(schema, dir + '/')).rejects.toThrow(/must end in/);
  });

  it('says when the file cannot be read', async () => {
    const notAFile = join(dir, 'k.json');
    mkdirSync(notAFile);
    await expect(readConfigFile(schema, notAFile)).rejects.toThrow(/k\.json: cannot be read \(EISDIR\); check -c\/--config\.$/);
  });
});
