import { describe, expect, it } from 'vitest';
import { median, medianRatio, ratio, summarizeLoad, total, verdict } from '../src/stats.mjs';

describe('median', () => {
  it('takes the middle of an odd count and the mean of the middle two of an even one', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it('skips rounds that failed and is null when none ran', () => {
    expect(median([null, 5, undefined, Number.NaN, 7])).toBe(6);
    expect(median([null, null])).toBeNull();
  });
});

describe('ratio and medianRatio', () => {
  it('is null rather than Infinity or NaN', () => {
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(3, 2)).toBe(1.5);
  });
  it('takes ratios within each round, then the median, so drift between rounds cancels', () => {
    // The machine halves in speed over the run; both contenders see it.
    const base = [{ rps: 1000 }, { rps: 500 }, { rps: 250 }];
    const mine = [{ rps: 900 }, { rps: 450 }, { rps: 225 }];
    expect(medianRatio(mine, base, 'rps')).toBeCloseTo(0.9);
    // A median of each side would give the same here, but not once a round fails on one side only.
    expect(medianRatio([null, { rps: 450 }, { rps: 225 }], base, 'rps')).toBeCloseTo(0.9);
  });
});

describe('summarizeLoad', () => {
  it('medians rps and latency, sums errors over rounds, and rates against the baseline', () => {
    const base = [{ rps: 100, p50Ms: 1, p99Ms: 2, errors: 0, requests: 100 }, { rps: 200, p50Ms: 1, p99Ms: 2, errors: 0, requests: 200 }];
    const mine = [{ rps: 50, p50Ms: 2, p99Ms: 4, errors: 1, requests: 50 }, { rps: 100, p50Ms: 4, p99Ms: 8, errors: 2, requests: 100 }];
    expect(summarizeLoad(mine, base)).toEqual({ rounds: 2, rps: 75, p50Ms: 3, p99Ms: 6, errors: 3, requests: 150, ratio: 0.5, spread: '0.50–0.50', cpuUsPerReq: null, cpuRatio: null });
    expect(total([null, { errors: 2 }], 'errors')).toBe(2);
  });
});

describe('verdict', () => {
  it('says met, missed, or not measured', () => {
    expect(verdict(0.96, '>=', 0.95)).toBe('met');
    expect(verdict(0.6, '<=', 0.5)).toBe('missed');
    expect(verdict(0, '==', 0)).toBe('met');
    expect(verdict(null, '>=', 1)).toBe('not measured');
  });
});

describe('ratioSpread', () => {
  it('shows the lowest and highest per-round ratio, once there are two rounds', async () => {
    const { ratioSpread } = await import('../src/stats.mjs');
    const base = [{ rps: 100 }, { rps: 100 }, { rps: 100 }];
    expect(ratioSpread([{ rps: 90 }, { rps: 110 }, null], base, 'rps')).toBe('0.90–1.10');
    expect(ratioSpread([{ rps: 90 }, null, null], base, 'rps')).toBeNull();
  });
});
