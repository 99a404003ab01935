import { describe, expect, it } from 'vitest';
import { readConfigObject } from './config-object.js';
import { schemaOf, thrown } from './test-fixtures/list.js';

const schema = schemaOf({ commandLineOnly: ['config'], keysHint: 'Keys are listed in tool --help.', explainUnknown: (w) => (w === 'preload_app' ? 'is not taken: no such step.' : undefined) });
const HOOKS = new Map([['onStart', 'onStart'], ['on_start', 'onStart']]);

describe('readConfigObject', () => {
  it('takes settings by key or name, typed or as text, and the extra keys apart', () => {
    const onStart = () => undefined;
    const { values, rest, written } = readConfigObject(schema, { workers: '4', max_body: '1k', bind: 'a:1', log_level: 'DEBUG', on_start: onStart, timeout: undefined }, 'x.mjs', HOOKS);
    expect(values).toEqual({ workers: 4, maxBody: 1024, bind: ['a:1'], logLevel: 'debug' });
    expect(rest).toEqual({ onStart });
    expect(written.get('onStart')).toBe('on_start');
  });

  it('refuses unknown keys with the nearest one, and keys the command line only takes', () => {
    expect(thrown(() => readConfigObject(schema, { worker: 2 }, 'x.mjs'))).toMatchObject({
      problem: 'config-file',
      message: 'Config file x.mjs: unknown key "worker". Did you mean "workers"? Keys are listed in tool --help.',
    });
    expect(thrown(() => readConfigObject(schema, { on_strat: 1 }, 'x.mjs', HOOKS)).message).toContain('Did you mean "on_start"?');
    expect(thrown(() => readConfigObject(schema, { config: 'other.json' }, 'x.mjs')).message).toContain('unknown key "config".');
    expect(thrown(() => readConfigObject(schema, { preload_app: true }, 'x.mjs')).message).toBe('Config file x.mjs: "preload_app" is not taken: no such step.');
  });

  it('refuses one setting spelled two ways, a wrong value, and what is not an object', () => {
    expect(thrown(() => readConfigObject(schema, { max_body: 1, maxBody: 2 }, 'x.mjs')).message).toBe('Config file x.mjs: "max_body" and "maxBody" are the same setting; keep one of them.');
    expect(thrown(() => readConfigObject(schema, { workers: 'two' }, 'x.mjs'))).toMatchObject({ problem: 'config-file', message: 'Config file x.mjs: "workers" (workers): expected a whole number, got "two".' });
    expect(thrown(() => readConfigObject(schema, [1], 'x.mjs')).message).toBe('Config file x.mjs: expected it to export an object of settings, found an array.');
    expect(thrown(() => readConfigObject(schema, null, 'x.mjs')).message).toContain('found null');
  });
});
