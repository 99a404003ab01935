// Issue 14's memory row: the RSS one proxy worker holds for 10 000 idle kept-alive client
// connections, beside one nginx worker holding the same, in front of the same upstream. Each
// connection made one request first (so it is a real kept-alive HTTP connection, not a bare
// accept), then stays open and idle while the RSS is read from /proc.
import net from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODICORN_BIN } from './contenders.mjs';
import { nginxConf } from './nginx.mjs';
import { childrenOf, freePort, rssKb, start, stop, waitReady } from './proc.mjs';

export const IDLE_CONNECTIONS = 10_000;

/** Opens `count` kept-alive connections to 127.0.0.1:port, each after one answered GET; resolves with the sockets. */
async function idleConnections(port, count) {
  const sockets = [];
  const one = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let seen = '';
      socket.setNoDelay(true);
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        seen += chunk.toString('latin1');
        // One whole response (the upstream answers "ok" with Content-Length 2).
        if (/\r\n\r\n[\s\S]{2}$/.test(seen) || /\r\n\r\n$/.test(seen)) resolve(socket);
      });
      socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
  // Bounded concurrency: a burst of 10 000 SYNs would overflow the backlog.
  for (let i = 0; i < count; i += 200) sockets.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, one))));
  return sockets;
}

/** RSS (MB) of the process with the most memory among the workers (nginx: its one worker; the proxy: its one worker). */
function workerRssMb(pid) {
  const kids = childrenOf(pid);
  const all = (kids.length ? kids : [pid]).map(rssKb).filter(Number.isFinite);
  return Math.max(...all) / 1024;
}

async function measure(name, launch, port) {
  const proc = await launch();
  try {
    await waitReady(proc, { url: `http://127.0.0.1:${port}/` });
    const before = workerRssMb(proc.pid);
    const sockets = await idleConnections(port, IDLE_CONNECTIONS);
    // Let each side settle (timers, GC) before reading.
    await new Promise((r) => setTimeout(r, 2000));
    const after = workerRssMb(proc.pid);
    for (const s of sockets) s.destroy();
    return { name, beforeMb: before, afterMb: after, perConnectionKb: ((after - before) * 1024) / IDLE_CONNECTIONS };
  } finally {
    await stop(proc);
  }
}

/** The table: one proxy worker against one nginx worker, each holding IDLE_CONNECTIONS idle connections. */
export async function runIdleMemory(ctx, nginxBin = 'nginx') {
  const dir = join(ctx.tmp, 'idle-memory');
  mkdirSync(dir, { recursive: true });
  const upstream = join(dir, 'up.sock');
  const server = net.createServer((c) => {
    c.on('error', () => {});
    c.on('data', () => c.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  });
  await new Promise((r) => server.listen(upstream, r));
  const rows = [];
  try {
    const nginxPort = await freePort();
    const prefix = join(dir, 'nginx');
    mkdirSync(prefix, { recursive: true });
    const conf = nginxConf({ prefix, port: nginxPort, tlsPort: await freePort(), cert: ctx.fixtures.cert, key: ctx.fixtures.key, upstreamSocket: upstream, staticRoot: dir, workers: 1, asRoot: process.getuid?.() === 0 })
      .replace('worker_connections 4096;', `worker_connections ${IDLE_CONNECTIONS + 1000};`)
      .replace(/keepalive_timeout [^;]+;/g, '')
      .replace('http {', 'http {\n  keepalive_timeout 300s;\n  keepalive_requests 100000;');
    writeFileSync(join(prefix, 'nginx.conf'), conf);
    rows.push(await measure('nginx (1 worker)', () => start(nginxBin, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;']), nginxPort));
    const proxyPort = await freePort();
    rows.push(
      await measure('nodicorn proxy (1 worker)', () => start(process.execPath, [NODICORN_BIN, 'proxy', '--workers', '1', '--listen', `http://127.0.0.1:${proxyPort}`, '--upstream', `unix:${upstream}`, '--access-log', 'off', '--keepalive-timeout', '300']), proxyPort),
    );
  } finally {
    server.close();
  }
  const base = rows[0];
  return {
    id: 'idle-memory',
    title: `Memory: ${IDLE_CONNECTIONS.toLocaleString('en')} idle kept-alive connections`,
    about: `RSS of the one worker process before and after ${IDLE_CONNECTIONS} client connections that each made one request and then stay idle (nginx: worker_processes 1, keepalive_timeout 300s; the proxy: --workers 1 --keepalive-timeout 300), same upstream.`,
    baseline: 'nginx',
    rows: rows.map((r) => ({ id: r.name, label: r.name, beforeMb: r.beforeMb, afterMb: r.afterMb, perConnectionKb: r.perConnectionKb, ratio: r.afterMb / base.afterMb })),
    columns: [
      { key: 'label', label: 'contender', align: 'left' },
      { key: 'beforeMb', label: 'RSS idle (MB)', digits: 1 },
      { key: 'afterMb', label: `RSS with ${IDLE_CONNECTIONS} (MB)`, digits: 1 },
      { key: 'perConnectionKb', label: 'per connection (KB)', digits: 2 },
      { key: 'ratio', label: 'vs nginx', digits: 2, suffix: '×' },
    ],
  };
}
