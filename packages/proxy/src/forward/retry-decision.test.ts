import { describe, expect, it } from 'vitest';
import { rateLimited } from '../logging/error-log.js';
import { retryDecision, STALE_WINDOW_MS } from './forward.js';

describe('retryDecision', () => {
  it('retries a fresh cut once, never one past the stale window, never twice', () => {
    expect(retryDecision('UND_ERR_SOCKET', 'GET', 'none', 3, false).retry).toBe('same');
    expect(retryDecision('UND_ERR_SOCKET', 'GET', 'none', STALE_WINDOW_MS + 1, false)).toEqual({ retry: false, why: `not retried: upstream closed after ${STALE_WINDOW_MS + 1} ms` });
    expect(retryDecision('ECONNRESET', 'GET', 'none', 3, true).retry).toBe(false);
  });

  it('never repeats a non-idempotent method or a streamed body; moves on after a connect failure', () => {
    expect(retryDecision('ECONNRESET', 'POST', 'buffered', 3, false).retry).toBe(false);
    expect(retryDecision('ECONNREFUSED', 'PUT', 'streamed', 0, false).retry).toBe(false);
    expect(retryDecision('ECONNREFUSED', 'PUT', 'buffered', 0, false).retry).toBe('next');
    expect(retryDecision('UND_ERR_HEADERS_TIMEOUT', 'GET', 'none', 60_000, false).retry).toBe(false);
  });
});

describe('rateLimited', () => {
  it('passes N lines a second, then reports how many it dropped', () => {
    let now = 0;
    const out: string[] = [];
    const log = rateLimited((m) => out.push(m), 2, () => now);
    for (let i = 0; i < 5; i++) log(`l${i}`);
    now = 1000;
    log('next');
    expect(out).toEqual(['l0', 'l1', 'suppressed 3 similar upstream error line(s) in the last second', 'next']);
  });
});
