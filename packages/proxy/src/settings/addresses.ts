import { isIP } from 'node:net';

/** One `--listen` URL. */
export interface ListenSpec {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

/** One upstream server: a Unix socket or a TCP address, and how it is written in logs. */
export interface ServerAddress {
  readonly label: string;
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
}

/** Parses `http://HOST:PORT` / `https://[::1]:PORT`; returns what is wrong as a string. */
export function parseListen(text: string): ListenSpec | string {
  const m = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[^/:\s[\]]+):(\d{1,5})\/?$/.exec(text.trim());
  if (!m) return `expected http://HOST:PORT or https://HOST:PORT, got "${text}"`;
  const port = Number(m[3]);
  if (port > 65535) return `port ${port} is out of range in "${text}"`;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  if (m[2]!.startsWith('[') && isIP(host) !== 6) return `"${host}" is not an IPv6 address in "${text}"`;
  return { scheme: m[1] as 'http' | 'https', host, port };
}

/** Parses `unix:PATH`, `HOST:PORT` or `[V6]:PORT`. */
export function parseServer(text: string): ServerAddress | string {
  const t = text.trim();
  if (t.startsWith('unix:')) {
    const socketPath = t.slice(5).replace(/^\/\/(?=\/)/, '');
    if (!socketPath) return `expected unix:PATH, got "${text}"`;
    return { label: `unix:${socketPath}`, socketPath };
  }
  const m = /^(?:http:\/\/)?(\[[0-9a-fA-F:.]+\]|[^/:\s[\]]+):(\d{1,5})\/?$/.exec(t);
  if (!m || Number(m[2]) > 65535 || Number(m[2]) === 0) return `expected unix:PATH or HOST:PORT, got "${text}"`;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return { label: `${m[1]}:${m[2]}`, host, port: Number(m[2]) };
}

/** The address written back for logs and banners: `http://127.0.0.1:8080`, `https://[::1]:443`. */
export function formatListen(scheme: string, host: string, port: number): string {
  return `${scheme}://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
