import { describe, expect, it } from 'vitest';
import { LocalRequestLimiter } from './limit-req.js';

describe('LocalRequestLimiter (nginx limit_req, integer for integer)', () => {
  it('5r/s burst 0: one request per 200 ms, the first at once', () => {
    const l = new LocalRequestLimiter({ rate: 5000, burst: 0, delay: 0 });
    expect(l.take('a', 1000)).toEqual({ ok: true, delayMs: 0, excess: 0 });
    expect(l.take('a', 1100)).toMatchObject({ ok: false, excess: 500 });
    expect(l.take('a', 1199)).toMatchObject({ ok: false });
    expect(l.take('a', 1200)).toEqual({ ok: true, delayMs: 0, excess: 0 });
    // Another key has its own bucket.
    expect(l.take('b', 1201)).toMatchObject({ ok: true });
  });

  it('burst queues the excess and delays each to the rate; nodelay passes the burst at once', () => {
    const delayed = new LocalRequestLimiter({ rate: 10_000, burst: 3, delay: 0 });
    const at = (l: LocalRequestLimiter) => [0, 1, 2, 3, 4].map(() => l.take('k', 5000));
    expect(at(delayed)).toEqual([
      { ok: true, delayMs: 0, excess: 0 },
      { ok: true, delayMs: 100, excess: 1000 },
      { ok: true, delayMs: 200, excess: 2000 },
      { ok: true, delayMs: 300, excess: 3000 },
      { ok: false, excess: 4000 },
    ]);
    const nodelay = new LocalRequestLimiter({ rate: 10_000, burst: 3, delay: Infinity });
    expect(at(nodelay).map((v) => (v.ok ? v.delayMs : 'refused'))).toEqual([0, 0, 0, 0, 'refused']);
  });

  it('delay=N: the first N of the burst at once, the rest delayed (two-stage limiting)', () => {
    const l = new LocalRequestLimiter({ rate: 10_000, burst: 4, delay: 2 });
    expect([0, 1, 2, 3, 4, 5].map(() => l.take('k', 0)).map((v) => (v.ok ? v.delayMs : 'refused'))).toEqual([0, 0, 0, 100, 200, 'refused']);
  });

  it('30r/m is 500 milli-requests a second: one request per 2 s', () => {
    const l = new LocalRequestLimiter({ rate: 500, burst: 0, delay: 0 });
    expect(l.take('k', 0).ok).toBe(true);
    expect(l.take('k', 1999).ok).toBe(false);
    expect(l.take('k', 2000).ok).toBe(true);
  });

  it('a refused request does not fill the bucket (nginx leaves excess as it was)', () => {
    const l = new LocalRequestLimiter({ rate: 1000, burst: 1, delay: Infinity });
    l.take('k', 0);
    l.take('k', 0);
    for (let i = 0; i < 10; i++) expect(l.take('k', 0).ok).toBe(false);
    expect(l.take('k', 1000).ok).toBe(true);
  });

  it('keeps at most maxKeys buckets, forgetting the least recently seen', () => {
    const l = new LocalRequestLimiter({ rate: 1000, burst: 0, delay: 0 }, 3);
    for (const k of ['a', 'b', 'c']) l.take(k, 0);
    l.take('a', 0); // a is now the most recent, b the oldest
    l.take('d', 0);
    expect(l.size).toBe(3);
    expect(l.take('a', 0).ok).toBe(false); // remembered: still limited
    expect(l.take('b', 0).ok).toBe(true); // forgotten: a fresh bucket
  });
});
