// --proxy-protocol (issue 15 point 2): a load balancer's PROXY header, v1 and v2, on real sockets.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanups, startNodicorn } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

const PEER_APP = `export const app = (req, res) => res.end(JSON.stringify({ address: req.socket.remoteAddress, port: req.socket.remotePort }));\n`;

/** Writes `chunks` on one connection and reads until the server closes it (or 3 s pass). */
function exchange(port: number, chunks: (string | Buffer)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    socket.setTimeout(3_000, () => socket.destroy());
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, 20)); // separate TCP segments
      }
    });
  });
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const LAST_GET = 'GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
const bodies = (raw: string) => [...raw.matchAll(/\r\n\r\n(\{[^}]*\})/g)].map((m) => JSON.parse(m[1]!) as { address: string; port: number });

function v2Ipv4(source: number[], sourcePort: number): Buffer {
  const head = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 12]);
  const body = Buffer.alloc(12);
  Buffer.from(source).copy(body, 0);
  Buffer.from([10, 0, 0, 1]).copy(body, 4);
  body.writeUInt16BE(sourcePort, 8);
  body.writeUInt16BE(80, 10);
  return Buffer.concat([head, body]);
}

describe('--proxy-protocol', () => {
  it('takes the client from a v1 or v2 header (also split across reads, for every request on the connection) and closes a connection without one', async () => {
    const dir = appDir({ 'app.mjs': PEER_APP });
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '--proxy-protocol', '--access-logfile', '-', '--access-logformat', 'peer=%(h)s', 'app.mjs:app']);
    const port = server.port!;
    const v1 = await exchange(port, ['PROXY TCP4 203.0.113.7 10.0.0.1 51234 80\r\n', GET, LAST_GET]);
    expect(bodies(v1)).toEqual([{ address: '203.0.113.7', port: 51234 }, { address: '203.0.113.7', port: 51234 }]);
    const split = await exchange(port, ['PROXY TCP6 2001:db8::7 ', `2001:db8::1 4000 443\r\n${LAST_GET}`]);
    expect(bodies(split)).toEqual([{ address: '2001:db8::7', port: 4000 }]);
    const v2 = await exchange(port, [Buffer.concat([v2Ipv4([198, 51, 100, 9], 40000), Buffer.from(LAST_GET)])]);
    expect(bodies(v2)).toEqual([{ address: '198.51.100.9', port: 40000 }]);
    await server.waitFor(/peer=198\.51\.100\.9/);
    expect(server.output()).toMatch(/peer=203\.0\.113\.7/);
    // From an allowed peer, a request without its header is never handled under the balancer's address.
    expect(await exchange(port, [LAST_GET])).toBe('');
    expect(await exchange(port, ['PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n', LAST_GET])).toBe('');
    await server.waitFor(/Closed a connection from 127\.0\.0\.1: no PROXY header \(--proxy-protocol\)/);
    expect(server.output()).toMatch(/malformed PROXY v1 line/);
    expect(server.output()).not.toMatch(/peer=127\.0\.0\.1/);
  });

  it('a peer outside --proxy-allow-from speaks plain HTTP: its own address counts, and a PROXY line from it is a bad request', async () => {
    const dir = appDir({ 'app.mjs': PEER_APP });
    const server = await startNodicorn(['--chdir', dir, '-b', '127.0.0.1:0', '--proxy-protocol', '--proxy-allow-from', '10.9.9.9', 'app.mjs:app']);
    expect(bodies(await exchange(server.port!, [LAST_GET]))).toEqual([expect.objectContaining({ address: '127.0.0.1' })]);
    expect(await exchange(server.port!, ['PROXY TCP4 203.0.113.7 10.0.0.1 1 2\r\n', LAST_GET])).toMatch(/^HTTP\/1\.1 400/);
  });
});
