import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamGroup } from './group.js';

const options = { connections: 1, connectTimeoutMs: 1000, timeoutMs: 1000, maxFails: 2, failTimeoutMs: 10_000 };
const groups: UpstreamGroup[] = [];
afterEach(async () => Promise.all(groups.splice(0).map((g) => g.close())));

function group(n: number): UpstreamGroup {
  const g = new UpstreamGroup('g', Array.from({ length: n }, (_, i) => ({ label: `s${i}`, socketPath: `/nonexistent/s${i}.sock` })), options);
  groups.push(g);
  return g;
}

describe('UpstreamGroup', () => {
  it('picks round-robin and skips servers already tried for this request', () => {
    const g = group(3);
    expect([g.pick(null), g.pick(null), g.pick(null), g.pick(null)].map((s) => s!.address.label)).toEqual(['s0', 's1', 's2', 's0']);
    const tried = new Set([g.servers[1]!, g.servers[2]!]);
    expect(g.pick(tried)!.address.label).toBe('s0');
    expect(g.pick(new Set(g.servers))).toBeUndefined();
  });

  it('marks a server down after max_fails inside fail_timeout, and back up after it', () => {
    const g = group(2);
    const [a] = g.servers;
    a!.failed(1000);
    expect(a!.downUntil(1000)).toBe(0);
    a!.failed(2000);
    expect(a!.downUntil(2000)).toBe(12_000);
    expect([g.pick(null, 3000), g.pick(null, 3000)].map((s) => s!.address.label)).toEqual(['s1', 's1']);
    expect(a!.downUntil(12_001)).toBe(0);
  });

  it('failures spread wider than fail_timeout never add up', () => {
    const g = group(1);
    g.servers[0]!.failed(0);
    g.servers[0]!.failed(20_000);
    expect(g.servers[0]!.downUntil(20_000)).toBe(0);
  });

  it('still tries a one-server upstream that is marked down, as nginx does', () => {
    const g = group(1);
    g.servers[0]!.failed(0);
    g.servers[0]!.failed(0);
    expect(g.pick(null, 1)).toBe(g.servers[0]);
  });
});
