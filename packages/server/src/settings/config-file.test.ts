import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, validateConfigObject } from './config-file.js';
import { SETTINGS } from './definitions.js';
import { resolveServeSettings } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'ndc-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('validateConfigObject', () => {
  it('takes settings by camelCase name and hooks', () => {
    const onStarting = () => undefined;
    const { values, hooks } = validateConfigObject({ workers: 4, bind: '127.0.0.1:9000', timeout: '12', onStarting }, 'x.mjs');
    expect(values).toEqual({ workers: 4, bind: ['127.0.0.1:9000'], timeout: 12 });
    expect(hooks.onStarting).toBe(onStarting);
  });
  it("takes Gunicorn's snake_case names for settings and hooks, and refuses both spellings of one", () => {
    const postFork = () => undefined;
    const { values, hooks } = validateConfigObject({ max_requests: 100, worker_class: 'sync', graceful_timeout: '5', post_fork: postFork }, 'x.py.mjs');
    expect(values).toEqual({ maxRequests: 100, workerClass: 'sync', gracefulTimeout: 5 });
    expect(hooks.postFork).toBe(postFork);
    expect(() => validateConfigObject({ max_requests: 1, maxRequests: 2 }, 'x.mjs')).toThrow('Config file x.mjs: "max_requests" and "maxRequests" are the same setting; keep one of them.');
    expect(() => validateConfigObject({ max_request: 1 }, 'x.mjs')).toThrow('unknown key "max_request". Did you mean "max_requests"?');
    expect(() => validateConfigObject({ worker_class: 'eventlet' }, 'x.mjs')).toThrow(/"worker_class" \(worker_class\)/);
  });
  it('takes every name --print-config prints', () => {
    for (const name of Object.values(SETTINGS).map((spec) => spec.name)) {
      expect(() => validateConfigObject({ [name]: undefined }, 'x.mjs')).not.toThrow();
      expect(() => validateConfigObject({ [name]: Symbol('wrong') }, 'x.mjs')).toThrow(new RegExp(`"${name}" \\(${name}\\)`));
    }
  });
  it('names a typo and the nearest valid key', () => {
    expect(() => validateConfigObject({ worker: 2 }, 'x.mjs')).toThrow('Config file x.mjs: unknown key "worker". Did you mean "workers"?');
    // A gunicorn.conf.py ported as is: its settings nodicorn does not take say why.
    expect(() => validateConfigObject({ preload_app: true }, 'x.mjs')).toThrow(/^Config file x\.mjs: "preload_app" is Gunicorn's preload_app, which nodicorn does not take: /);
    expect(() => validateConfigObject({ threads: 4 }, 'x.mjs')).toThrow(/one event loop/);
    expect(() => validateConfigObject({ onStartup: () => 1 }, 'x.mjs')).toThrow('Did you mean "onStarting"?');
  });
  it('names the key and the expected type for a wrong type', () => {
    expect(() => validateConfigObject({ workers: 'two' }, 'x.mjs')).toThrow('Config file x.mjs: "workers" (workers): expected a whole number, got "two".');
    expect(() => validateConfigObject({ preload: true, keepalive: [] }, 'x.mjs')).toThrow(/unknown key "preload"/);
    expect(() => validateConfigObject({ whenReady: 'soon' }, 'x.mjs')).toThrow('hook "whenReady" must be a function, found string');
    expect(() => validateConfigObject([1], 'x.mjs')).toThrow(/found an array/);
  });
  it("reads a ported gunicorn.conf.py's numbers for a choice as the flag would: cert_reqs = ssl.CERT_REQUIRED (2)", () => {
    expect(validateConfigObject({ cert_reqs: 2, tls_min_version: 'tlsv1.3' }, 'x.mjs').values).toEqual({ certReqs: 'required', tlsMinVersion: 'TLSv1.3' });
    expect(validateConfigObject({ certReqs: 'OPTIONAL' }, 'x.mjs').values).toEqual({ certReqs: 'optional' });
    expect(() => validateConfigObject({ cert_reqs: 3 }, 'x.mjs')).toThrow(/^Config file x\.mjs: "cert_reqs" \(cert_reqs\): expected one of none, optional, required \(or 0, 1, 2/);
  });
});

describe('config files', () => {
  it('loads .mjs, .cjs and .json, fresh on every read', async () => {
    const mjs = join(dir, 'a.mjs');
    writeFileSync(mjs, 'export default { workers: 2 };');
    expect((await loadConfigFile(mjs)).values.workers).toBe(2);
    writeFileSync(mjs, 'export default { workers: 3 };');
    expect((await loadConfigFile(mjs)).values.workers).toBe(3);
    const cjs = join(dir, 'b.cjs');
    writeFileSync(cjs, 'module.exports = { timeout: 5 };');
    expect((await loadConfigFile(cjs)).values.timeout).toBe(5);
    writeFileSync(cjs, 'module.exports = { timeout: 6 };');
    expect((await loadConfigFile(cjs)).values.timeout).toBe(6);
    const json = join(dir, 'c.json');
    writeFileSync(json, '{ "keepalive": 4 }');
    expect((await loadConfigFile(json)).values.keepalive).toBe(4);
  });
  it('says when the file is missing or throws', async () => {
    await expect(loadConfigFile(join(dir, 'nope.mjs'))).rejects.toThrow(/not found \(from -c\/--config\)/);
    const broken = join(dir, 'broken.mjs');
    writeFileSync(broken, 'throw new Error("oops")');
    await expect(loadConfigFile(broken)).rejects.toThrow(/could not be loaded: Error: oops/);
  });
  it('sits between the environment and the command line, and is found in cwd', async () => {
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cwd, 'nodicorn.config.mjs'), 'export default { workers: 6, timeout: 11, app: "from-config.js" };');
    const resolved = await resolveServeSettings(['--timeout', '12'], { WEB_CONCURRENCY: '2', NODICORN_CMD_ARGS: '-w 7' }, cwd);
    expect(resolved.settings.workers).toBe(7);
    expect(resolved.settings.timeout).toBe(12);
    expect(resolved.settings.app).toBe('from-config.js');
    expect(resolved.configPath).toBe(join(cwd, 'nodicorn.config.mjs'));
    const envOnly = await resolveServeSettings([], { WEB_CONCURRENCY: '2' }, cwd);
    expect(envOnly.settings.workers).toBe(6);
  });
});
