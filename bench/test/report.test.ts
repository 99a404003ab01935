import { describe, expect, it } from 'vitest';
import { cell, renderMarkdown, table } from '../src/report.mjs';

describe('cell', () => {
  it('fixes digits, adds a suffix, shows missing values as a dash and escapes pipes', () => {
    expect(cell(1234.567, 0)).toBe('1235');
    expect(cell(0.954, 2, '×')).toBe('0.95×');
    expect(cell(null)).toBe('—');
    expect(cell(Number.NaN)).toBe('—');
    expect(cell('a|b')).toBe('a\\|b');
  });
});

describe('table', () => {
  it('renders a GitHub markdown table, text left and numbers right', () => {
    const md = table(
      [{ key: 'label', label: 'contender', align: 'left' }, { key: 'rps', label: 'req/s', digits: 0 }],
      [{ label: 'nodicorn', rps: 10.4 }, { label: 'nginx', rps: null }],
    );
    expect(md).toBe('| contender | req/s |\n| --- | ---: |\n| nodicorn | 10 |\n| nginx | — |');
  });
});

describe('renderMarkdown', () => {
  const results = {
    meta: { command: 'pnpm bench --quick', date: '2026-01-01T00:00:00Z', node: '20.20.2', cpus: 2, cpuModel: 'CPU', loader: 'wrk', rounds: 3, durationS: 1, warmupS: 1, workers: 2, absent: ['PM2: not installed'] },
    targets: [{ target: 'keep-alive ≥ 0.95× node:cluster', measuredText: 'nodicorn: 0.90× (short by 5%)', verdict: 'missed' }],
    scenarios: [
      { title: 'Hello', about: 'GET /', columns: [{ key: 'label', label: 'contender', align: 'left' }], rows: [{ label: 'nodicorn' }] },
      { title: 'Proxy', about: 'via proxy', columns: [], rows: [], skipped: 'no proxy yet' },
    ],
  };
  const md = renderMarkdown(results);
  it('starts with the command and the targets', () => {
    expect(md).toContain('`pnpm bench --quick`');
    expect(md).toContain('| keep-alive ≥ 0.95× node:cluster | nodicorn: 0.90× (short by 5%) | ❌ missed |');
  });
  it('has a section per scenario, a note for an empty one, and lists what was absent', () => {
    expect(md).toContain('## Hello\n\nGET /\n\n| contender |');
    expect(md).toContain('_no proxy yet_');
    expect(md).toContain('## Not in this run\n\n- PM2: not installed');
  });
});
