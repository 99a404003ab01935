#!/usr/bin/env node
// nodicorn proxy vs nginx, side by side in one run, alternating contenders, against the same
// nodicorn server on one Unix socket. Prints a table of requests/s and the proxy/nginx ratio.
//
//   node packages/proxy/bench/vs-nginx.mjs [--duration 5] [--connections 50] [--rounds 3] [--engines] [--json]
//
// Needs `pnpm build`, wrk and nginx on PATH. Everything listens on 127.0.0.1 ephemeral ports or
// Unix sockets in a temp dir, and every child is killed on exit.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    // Also measure bare http-proxy-3 and bare undici on the plain-HTTP scenario (the engine decision).
    engines: { type: 'boolean', default: false },
  },
});
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NODICORN = join(ROOT, 'packages/cli/bin/nodicorn.js');
const dir = mkdtempSync(join(tmpdir(), 'ndc-bench-'));
const children = [];
// Started as root, nginx runs its worker as nobody, which must reach the socket and the files.
chmodSync(dir, 0o755);

function cleanup() {
  for (const c of children) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {}
  }
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function start(cmd, args, readyPattern) {
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready in 15 s:\n${out}`)), 15_000);
    const on = (d) => {
      out += d;
      if (readyPattern.test(out)) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('exit', (code) => reject(new Error(`${cmd} exited ${code}:\n${out}`)));
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port) {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((r) => net.connect(port, '127.0.0.1').on('connect', function () { this.destroy(); r(true); }).on('error', () => r(false)));
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`port ${port} never opened`);
}

function wrk(url) {
  const r = spawnSync('wrk', ['-t1', `-c${opts.connections}`, `-d${opts.duration}s`, '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const errors = /Socket errors:.*/.exec(r.stdout)?.[0] ?? '';
  return { rps, non2xx, errors };
}

// The upstream: one nodicorn worker answering a small text body, as in the issue's measurements.
writeFileSync(join(dir, 'app.mjs'), "export const app = (req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello from nodicorn\\n'); };\n");
mkdirSync(join(dir, 'static'));
writeFileSync(join(dir, 'static', 'five.txt'), 'x'.repeat(5 * 1024));
const sock = join(dir, 'app.sock');
await start(process.execPath, [NODICORN, '-w', '1', '-b', `unix:${sock}`, '--chdir', dir, 'app.mjs:app'], /Ready: /);

// nodicorn proxy first: it generates the certificate nginx then uses too.
const proxy = await start(process.execPath, [NODICORN, 'proxy', '--listen', 'http://127.0.0.1:0', '--listen', 'https://127.0.0.1:0', '--upstream', `unix:${sock}`, '--static', `/static=${join(dir, 'static')}`, '--state-dir', join(dir, 'state'), '--access-log', 'off'], /Ready: /);
const [pHttp, pHttps] = [...proxy.output().matchAll(/Listening at: (https?:\/\/[^\s]+)/g)].map((m) => m[1]);

const [nHttpPort, nHttpsPort] = [await freePort(), await freePort()];
const cert = join(dir, 'state/tls/localhost-cert.pem');
const key = join(dir, 'state/tls/localhost-key.pem');
// nginx as commonly configured in front of Gunicorn: one worker (the proxy is one process), an
// upstream keepalive pool, the same forwarded headers, buffering on, no access log (both off).
writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nx-body; proxy_temp_path ${dir}/nx-proxy; fastcgi_temp_path ${dir}/nx-fcgi;
  uwsgi_temp_path ${dir}/nx-uwsgi; scgi_temp_path ${dir}/nx-scgi;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  types { text/plain txt; }
  upstream app { server unix:${sock}; keepalive 64; }
  server {
    listen 127.0.0.1:${nHttpPort};
    listen 127.0.0.1:${nHttpsPort} ssl;
    ssl_certificate ${cert}; ssl_certificate_key ${key};
    location /static/ { alias ${dir}/static/; }
    location / {
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $remote_addr; proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`);
const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { detached: true, stdio: 'inherit', cwd: dir });
children.push(nginx);
nginx.on('exit', (code) => {
  process.stderr.write(`nginx exited (${code}); see ${dir}/nginx-error.log\n`);
  process.exit(1);
});
await waitPort(nHttpsPort);

// Every URL must answer 200 before it is measured, or the table would compare error pages.
for (const url of [pHttp, pHttps, `http://127.0.0.1:${nHttpPort}`, `https://127.0.0.1:${nHttpsPort}`]) {
  for (const path of ['/', '/static/five.txt']) {
    const r = spawnSync('curl', ['-sk', '-o', '/dev/null', '-w', '%{http_code}', url + path], { encoding: 'utf8' });
    if (r.stdout !== '200') throw new Error(`${url}${path} answered ${r.stdout}; not benchmarking`);
  }
}

const engines = {};
if (opts.engines) {
  for (const [name, file] of [['http-proxy-3 (bare)', 'engine-http-proxy-3.mjs'], ['undici dispatch (bare)', 'engine-undici.mjs']]) {
    const p = await start(process.execPath, [fileURLToPath(new URL(file, import.meta.url)), sock], /Listening at: /);
    engines[name] = /Listening at: (\S+)/.exec(p.output())[1] + '/';
  }
}

const scenarios = [
  { name: 'plain HTTP, proxied', proxy: `${pHttp}/`, nginx: `http://127.0.0.1:${nHttpPort}/`, target: 0.6 },
  { name: 'HTTPS, proxied', proxy: `${pHttps}/`, nginx: `https://127.0.0.1:${nHttpsPort}/`, target: 0.5 },
  { name: '5 KB static file', proxy: `${pHttp}/static/five.txt`, nginx: `http://127.0.0.1:${nHttpPort}/static/five.txt`, target: 0.5 },
];
for (const [name, url] of Object.entries(engines)) {
  scenarios.push({ name: `plain HTTP, ${name}`, proxy: url, nginx: `http://127.0.0.1:${nHttpPort}/`, target: null });
}
const rounds = Number(opts.rounds);
const rows = [];
for (const s of scenarios) {
  wrk(s.proxy), wrk(s.nginx); // warm both (JIT, keep-alive pools, TLS sessions)
  const results = { proxy: [], nginx: [] };
  for (let i = 0; i < rounds; i++) {
    // Alternate who goes first so drift (thermal, other load) does not favour one side.
    const order = i % 2 ? ['nginx', 'proxy'] : ['proxy', 'nginx'];
    for (const who of order) {
      const r = wrk(s[who]);
      if (r.non2xx || r.errors) process.stderr.write(`${s.name} ${who}: non-2xx ${r.non2xx} ${r.errors}\n`);
      results[who].push(r.rps);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const p = median(results.proxy);
  const n = median(results.nginx);
  rows.push({ scenario: s.name, proxy: Math.round(p), nginx: Math.round(n), ratio: +(p / n).toFixed(2), target: s.target, pass: s.target === null || p / n >= s.target, runs: results });
}

if (opts.json) {
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
} else {
  process.stdout.write(`\nwrk -t1 -c${opts.connections} -d${opts.duration}s, ${rounds} alternating rounds, median requests/s; upstream: nodicorn -w 1 on a Unix socket\n\n`);
  process.stdout.write(`| scenario | nodicorn proxy | nginx | ratio | target |\n| --- | ---: | ---: | ---: | ---: |\n`);
  for (const r of rows) process.stdout.write(`| ${r.scenario} | ${r.proxy} | ${r.nginx} | ${r.ratio}x | ${r.target === null ? '(engine)' : `≥${r.target}x ${r.pass ? 'ok' : 'MISSED'}`} |\n`);
}
process.exit(0);
