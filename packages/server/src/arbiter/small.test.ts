import { describe, expect, it } from 'vitest';
import { maxRequestsFor, respawnDelayMs } from './backoff.js';
import { MASTER_TRANSITIONS, transition } from './states.js';
import { lookupId, primaryGroup } from './users.js';

describe('respawnDelayMs', () => {
  it('replaces the first crash at once and doubles after, capped', () => {
    expect(respawnDelayMs([1000], 1000)).toBe(0);
    expect(respawnDelayMs([900, 1000], 1000)).toBe(100);
    expect(respawnDelayMs([800, 900, 1000], 1000)).toBe(200);
    expect(respawnDelayMs(Array.from({ length: 20 }, (_, i) => 1000 + i), 1020)).toBe(10_000);
    expect(respawnDelayMs([0, 1000], 100_000)).toBe(0); // old crashes fall out of the window
  });
});

describe('maxRequestsFor', () => {
  it('adds 0..jitter', () => {
    expect(maxRequestsFor(0, 50)).toBe(0);
    expect(maxRequestsFor(100, 0)).toBe(100);
    expect(maxRequestsFor(100, 10, () => 0)).toBe(100);
    expect(maxRequestsFor(100, 10, () => 0.9999)).toBe(110);
  });
});

describe('transition', () => {
  it('refuses moves the table does not allow', () => {
    expect(transition(MASTER_TRANSITIONS, 'master', 'booting', 'running')).toBe('running');
    expect(() => transition(MASTER_TRANSITIONS, 'master', 'halted', 'running')).toThrow('illegal master transition halted -> running');
  });
});

describe('users', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
  it('looks up names and passes numbers through', () => {
    expect(lookupId(passwd, 'nobody')).toBe(65534);
    expect(lookupId(passwd, '123')).toBe(123);
    expect(lookupId(passwd, 'nope')).toBeUndefined();
    expect(primaryGroup(passwd, 65534)).toBe(65534);
  });
});
