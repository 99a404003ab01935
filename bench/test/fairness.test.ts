import { describe, expect, it } from 'vitest';
import { balanceRatio, requestsByWorker } from '../src/fairness.mjs';

describe('fairness counting', () => {
  it('counts access-log lines per worker pid from a given line', () => {
    const lines = ['<1>', '<2>', '<1>', '<1>', '<2>', ''];
    expect(requestsByWorker(lines)).toEqual(new Map([['<1>', 3], ['<2>', 2]]));
    expect(requestsByWorker(lines, 2)).toEqual(new Map([['<1>', 2], ['<2>', 1]]));
  });

  it('is busiest over least busy, and Infinity when a worker served nothing', () => {
    const counts = new Map([['<1>', 300], ['<2>', 200]]);
    expect(balanceRatio(counts, [1, 2])).toBe(1.5);
    expect(balanceRatio(counts, [1, 2, 3])).toBe(Infinity);
  });
});
