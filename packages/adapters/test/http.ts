// Raw HTTP client steps the conformance suite needs beyond testkit's request(): repeated request
// headers, a streamed upload, a counted download, and an abort after the first bytes.
import http from 'node:http';
import { once } from 'node:events';

export interface Target {
  readonly url?: string;
  readonly socketPath?: string;
}

function options(target: Target, path: string, method = 'GET', headers: http.OutgoingHttpHeaders = {}): http.RequestOptions {
  const base = target.url ? new URL(target.url) : undefined;
  return {
    ...(target.socketPath ? { socketPath: target.socketPath } : { hostname: base!.hostname, port: base!.port }),
    path,
    method,
    headers,
    agent: false,
    timeout: 30_000,
  };
}

function send(target: Target, path: string, method: string, headers: http.OutgoingHttpHeaders, write: (req: http.ClientRequest) => Promise<void>) {
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(options(target, path, method, headers), resolve);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    write(req).catch(reject);
  });
}

/** A request whose headers may repeat (array values go out as separate lines); body read as text. */
export async function fetchText(target: Target, path: string, init: { method?: string; headers?: http.OutgoingHttpHeaders } = {}) {
  const res = await send(target, path, init.method ?? 'GET', init.headers ?? {}, async (req) => void req.end());
  let body = '';
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

/** POSTs `bytes` of zeros in 1 MiB writes, honouring backpressure; returns the response text. */
export async function upload(target: Target, path: string, bytes: number) {
  const chunk = Buffer.alloc(1 << 20);
  const res = await send(target, path, 'POST', { 'content-type': 'application/octet-stream', 'content-length': bytes }, async (req) => {
    for (let left = bytes; left > 0; left -= chunk.length) {
      if (!req.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await once(req, 'drain');
    }
    req.end();
  });
  let body = '';
  for await (const part of res) body += part;
  return { status: res.statusCode ?? 0, body };
}

/** GETs `path` and counts the body bytes without keeping them. */
export async function download(target: Target, path: string) {
  const res = await send(target, path, 'GET', {}, async (req) => void req.end());
  let bytes = 0;
  // 'data' events rather than for-await: the async iterator costs a promise per 16 KiB chunk.
  res.on('data', (part: Buffer) => (bytes += part.length));
  await once(res, 'end');
  return { status: res.statusCode ?? 0, headers: res.headers, bytes };
}

/** GETs `path`, waits for the first body bytes, then drops the connection. */
export async function abortAfterFirstBytes(target: Target, path: string): Promise<void> {
  const res = await send(target, path, 'GET', {}, async (req) => void req.end());
  await once(res, 'data');
  res.destroy();
}
