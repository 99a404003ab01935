import { describe, expect, it } from 'vitest';
import { defaultSettings, layerSettings, validateSettings } from './resolve.js';
import { schemaOf, thrown } from './test-fixtures/list.js';

const schema = schemaOf();

describe('defaults, layers and checks', () => {
  it('computes defaults against the environment, each a fresh copy', () => {
    const a = defaultSettings(schema, { WEB_CONCURRENCY: '3' });
    expect(a).toMatchObject({ workers: 3, timeout: 30, bind: [], daemon: false, logLevel: 'info', pidfile: null });
    a.bind.push('x');
    expect(defaultSettings(schema, {}).bind).toEqual([]);
    expect(defaultSettings(schema, {}).workers).toBe(1);
  });

  it('layers later over earlier, key by key, skipping undefined', () => {
    const base = defaultSettings(schema, {});
    const merged = layerSettings(base, { workers: 2, timeout: 10 }, { workers: 5, timeout: undefined });
    expect([merged.workers, merged.timeout, merged.maxBody]).toEqual([5, 10, 1024]);
    expect(base.workers).toBe(1);
  });

  it('names the first bad setting as the schema describes it', () => {
    const bad = { ...defaultSettings(schema, {}), workers: 0 };
    expect(thrown(() => validateSettings(schema, bad))).toMatchObject({ problem: 'value', message: 'Invalid --workers (workers): must be at least 1, got 0.' });
    const byName = schemaOf({ describe: (_key, spec) => `${spec.name} (${spec.flags.join(', ')})` });
    expect(thrown(() => validateSettings(byName, bad)).message).toBe('Invalid workers (-w, --workers): must be at least 1, got 0.');
    expect(thrown(() => validateSettings(schema, { ...bad, workers: 2, timeout: 'x' as never })).message).toBe('Invalid --timeout (timeout): expected a number of seconds, got "x".');
    expect(validateSettings(schema, { ...bad, workers: 2 }).workers).toBe(2);
  });
});
