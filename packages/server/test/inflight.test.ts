// A client that pipelines and goes away must not leave ghost requests behind (issue 11 item 3).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanups, startNodicorn, until } from '@nodicorn/testkit';
import { appDir } from './fixtures.js';

afterEach(runCleanups);

describe('pipelined requests and the in-flight tracker', () => {
  it('pipelined requests on a connection that closes are dropped from the in-flight count the drain reports', async () => {
    const server = await startNodicorn(['--chdir', appDir(), '-b', '127.0.0.1:0', '--graceful-timeout', '1', 'app.mjs:app']);
    const connect = async () => {
      const socket = net.connect(server.port!, '127.0.0.1');
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.on('error', () => {});
      return socket;
    };
    const pipelined = await connect();
    // One slow request in a handler, five queued behind it on the same connection, then the client leaves.
    pipelined.write('GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(6));
    await server.waitFor(/SLOW REQUEST/);
    pipelined.destroy();
    // A second client holds one genuinely in-flight request past the graceful timeout.
    const held = await connect();
    held.write('GET /slow?ms=20000 HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => (server.output().match(/SLOW REQUEST/g) ?? []).length >= 2, 10_000, 'the held request to start');
    server.signal('SIGTERM');
    const [line] = await server.waitFor(/graceful timeout \(1s\) reached with \d+ request\(s\) in flight/, 15_000);
    expect(line).toMatch(/with 1 request\(s\) in flight/);
    await server.exited(15_000);
  });
});
