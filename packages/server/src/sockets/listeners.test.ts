import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { bindAll } from './listeners.js';

const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('bindAll with the addresses of a host name', () => {
  it('gives every address of a name the port the first one picked for port 0', async () => {
    const listeners = await bindAll(
      [
        { spec: { kind: 'tcp', host: '127.0.0.1', port: 0 }, fromName: 'both' },
        { spec: { kind: 'tcp', host: '::1', port: 0 }, fromName: 'both' },
      ],
      { umask: 0o077, mode: 'master' },
    );
    try {
      expect(listeners).toHaveLength(2);
      const [v4, v6] = listeners;
      expect(v4!.port).toBeGreaterThan(0);
      expect(v6!.port).toBe(v4!.port);
      expect(v6!.label).toBe(`http://[::1]:${v4!.port}`);
      expect(await connects('127.0.0.1', v4!.port!)).toBe(true);
      expect(await connects('::1', v4!.port!)).toBe(true);
    } finally {
      for (const listener of listeners) listener.close();
    }
  });

  it('skips an address of a name this machine does not have, but not a literal one, nor every address', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never a local address, so bind() fails with EADDRNOTAVAIL.
    const skipped: string[] = [];
    const listeners = await bindAll(
      [
        { spec: { kind: 'tcp', host: '127.0.0.1', port: 0 }, fromName: 'mixed' },
        { spec: { kind: 'tcp', host: '192.0.2.1', port: 0 }, fromName: 'mixed' },
      ],
      { umask: 0o077, log: (line) => skipped.push(line) },
    );
    for (const listener of listeners) listener.close();
    expect(listeners).toHaveLength(1);
    expect(skipped.join('\n')).toMatch(/Skipping http:\/\/192\.0\.2\.1:\d+ \(an address of "mixed"\): .*EADDRNOTAVAIL/);
    await expect(bindAll([{ spec: { kind: 'tcp', host: '192.0.2.1', port: 0 } }], { umask: 0o077 })).rejects.toThrow(/Cannot bind http:\/\/192\.0\.2\.1:0: EADDRNOTAVAIL/);
    await expect(bindAll([{ spec: { kind: 'tcp', host: '192.0.2.1', port: 0 }, fromName: 'only' }], { umask: 0o077 })).rejects.toThrow(/EADDRNOTAVAIL/);
  });
});
