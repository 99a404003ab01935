import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamSpec } from '../settings/upstreams.js';
import { ipHashKey, UpstreamGroup, type PickContext } from './group.js';
import { HealthChecks } from './health-check.js';

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

function weighted(specs: { label: string; weight?: number; backup?: boolean; down?: boolean }[], extra: Partial<UpstreamSpec> = {}): UpstreamGroup {
  const g = new UpstreamGroup('w', {
    servers: specs.map((s) => ({ address: { label: s.label, socketPath: `/nonexistent/${s.label}.sock` }, weight: s.weight ?? 1, backup: s.backup ?? false, down: s.down ?? false })),
    balance: 'round_robin',
    healthCheck: null,
    sticky: null,
    ...extra,
  }, options);
  groups.push(g);
  return g;
}
const labels = (g: UpstreamGroup, n: number, context?: PickContext) => Array.from({ length: n }, () => g.pick(null, 0, context)!.address.label).join(' ');

describe('balancing methods, as nginx', () => {
  it('spreads weights smoothly: 5:1:1 gives a a b a c a a', () => {
    const g = weighted([{ label: 'a', weight: 5 }, { label: 'b' }, { label: 'c' }]);
    expect(labels(g, 7)).toBe('a a b a c a a');
    expect(labels(g, 7)).toBe('a a b a c a a');
  });

  it('least_conn picks the fewest requests in flight per weight, round-robin among ties', () => {
    const g = weighted([{ label: 'a' }, { label: 'b', weight: 2 }, { label: 'c' }], { balance: 'least_conn' });
    const [a, b, c] = g.servers;
    [a!.active, b!.active, c!.active] = [2, 3, 1];
    // 2/1, 3/2 = 1.5, 1/1: c has the least per weight.
    expect(g.pick(null, 0)!.address.label).toBe('c');
    c!.active = 3;
    expect(g.pick(null, 0)!.address.label).toBe('b');
    [a!.active, b!.active, c!.active] = [0, 0, 0];
    expect(labels(g, 4)).toBe('b a c b');
  });

  it('ip_hash keeps a client (its /24 for IPv4) on one server, and keeps it there when another server goes', () => {
    const g = weighted([{ label: 'a' }, { label: 'b' }, { label: 'c' }], { balance: 'ip_hash' });
    const first = g.pick(null, 0, { clientAddress: '192.0.2.10' })!;
    for (const addr of ['192.0.2.10', '192.0.2.200', '::ffff:192.0.2.7']) expect(g.pick(null, 0, { clientAddress: addr })).toBe(first);
    const spread = new Set(Array.from({ length: 50 }, (_, i) => g.pick(null, 0, { clientAddress: `10.${i}.${i * 3}.1` })!.address.label));
    expect(spread.size).toBe(3);
    // Another server leaving moves nobody who was not on it.
    const other = g.servers.find((s) => s !== first)!;
    other.healthy = false;
    expect(g.pick(null, 0, { clientAddress: '192.0.2.10' })).toBe(first);
    // Its own server leaving moves the client, to the same new server every time.
    first.healthy = false;
    other.healthy = true;
    const moved = g.pick(null, 0, { clientAddress: '192.0.2.10' })!;
    expect(moved).not.toBe(first);
    expect(g.pick(null, 0, { clientAddress: '192.0.2.10' })).toBe(moved);
  });

  it('hashes as nginx: the first three IPv4 octets, all sixteen IPv6 bytes', () => {
    expect(ipHashKey('203.0.113.9')).toEqual([203, 0, 113]);
    expect(ipHashKey('::ffff:203.0.113.9')).toEqual([203, 0, 113]);
    expect(ipHashKey('2001:db8::1')).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipHashKey(undefined)).toEqual([]);
  });

  it('sends to backup servers only while every primary is out of service', () => {
    const g = weighted([{ label: 'a' }, { label: 'b' }, { label: 'spare', backup: true }]);
    expect(labels(g, 4)).toBe('a b a b');
    g.servers[0]!.healthy = false;
    g.servers[1]!.failed(0);
    g.servers[1]!.failed(0);
    expect(labels(g, 2)).toBe('spare spare');
    g.servers[1]!.succeeded();
    expect(labels(g, 2)).toBe('b b');
  });

  it('never picks a server failing its active check or marked down, even as a last resort', () => {
    const g = weighted([{ label: 'a' }, { label: 'off', down: true }]);
    g.servers[0]!.healthy = false;
    expect(g.pick(null, 0)).toBeUndefined();
    g.servers[0]!.healthy = true;
    expect(labels(g, 3)).toBe('a a a');
  });

  it('a sticky cookie pins the client to its server and is set only when it does not already name it', () => {
    const g = weighted([{ label: 'a' }, { label: 'b' }], { sticky: { cookie: 'srv', path: '/', maxAge: 60 } });
    const b = g.servers[1]!;
    const pinned = { cookie: `theme=dark; srv=${b.id}` };
    expect(labels(g, 3, pinned)).toBe('b b b');
    expect(g.stickyCookie(b, pinned)).toBeNull();
    expect(g.stickyCookie(g.servers[0]!, {})).toBe(`srv=${g.servers[0]!.id}; Path=/; HttpOnly; Max-Age=60`);
    // A pinned server out of service: the client goes elsewhere and is re-pinned there.
    b.healthy = false;
    const moved = g.pick(null, 0, pinned)!;
    expect(moved.address.label).toBe('a');
    expect(g.stickyCookie(moved, pinned)).toMatch(/^srv=/);
    // A forged or stale id is just a miss.
    expect(g.pick(null, 0, { cookie: 'srv=0000' })!.address.label).toBe('a');
  });
});

describe('active health checks', () => {
  const spec = { path: '/healthz', intervalMs: 1000, timeoutMs: 500, status: [200, 399] as [number, number], rise: 2, fall: 3, port: null };
  it('takes a server out after `fall` failures in a row and back after `rise` passes, logging each change', () => {
    const g = weighted([{ label: 'a' }]);
    const lines: string[] = [];
    const checks = new HealthChecks(g.servers, spec, 'w', (m) => lines.push(m));
    const a = g.servers[0]!;
    checks.record(a, 'status 500, expected 200-399');
    checks.record(a, 'status 500, expected 200-399');
    checks.record(a, null);
    checks.record(a, 'ECONNREFUSED');
    checks.record(a, 'ECONNREFUSED');
    expect(a.healthy).toBe(true);
    checks.record(a, 'ECONNREFUSED');
    expect(a.healthy).toBe(false);
    expect(lines).toEqual(['upstream server a failed its health check (GET /healthz: ECONNREFUSED) 3 times; out of service until it passes 2']);
    checks.record(a, null);
    expect(a.healthy).toBe(false);
    checks.record(a, null);
    expect(a.healthy).toBe(true);
    expect(lines[1]).toBe('upstream server a passed its health check 2 times; back in service');
  });
});
