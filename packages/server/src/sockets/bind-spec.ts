import { isIP } from 'node:net';
import { UsageError } from '../errors.js';

export type BindSpec =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number };

const DEFAULT_PORT = 8000;

function badBind(text: string, why: string): UsageError {
  return new UsageError(
    'ERR_BAD_BIND',
    `Invalid --bind "${text}": ${why}. Expected HOST:PORT, [IPV6]:PORT, unix:PATH or fd://N.`,
  );
}

function parsePort(text: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw badBind(text, `port "${raw}" is not a number`);
  const port = Number(raw);
  if (port > 65535) throw badBind(text, `port ${port} is above 65535`);
  return port;
}

/** Parses one --bind value, as Gunicorn does (a host alone gets port 8000). */
export function parseBind(text: string): BindSpec {
  const value = text.trim();
  if (!value) throw badBind(text, 'it is empty');
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length);
    if (!path) throw badBind(text, 'the socket path is empty');
    if (Buffer.byteLength(path) > 107) throw badBind(text, 'Unix socket paths are limited to 107 bytes');
    return { kind: 'unix', path };
  }
  if (value.startsWith('fd://')) {
    const raw = value.slice('fd://'.length);
    if (!/^\d+$/.test(raw)) throw badBind(text, `"${raw}" is not a file descriptor number`);
    return { kind: 'fd', fd: Number(raw) };
  }
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0) throw badBind(text, 'the IPv6 address has no closing "]"');
    const host = value.slice(1, close);
    if (isIP(host) !== 6) throw badBind(text, `"${host}" is not an IPv6 address`);
    const rest = value.slice(close + 1);
    if (rest === '') return { kind: 'tcp', host, port: DEFAULT_PORT };
    if (!rest.startsWith(':')) throw badBind(text, `unexpected "${rest}" after the address`);
    return { kind: 'tcp', host, port: parsePort(text, rest.slice(1)) };
  }
  const colon = value.lastIndexOf(':');
  if (colon < 0) return { kind: 'tcp', host: value, port: DEFAULT_PORT };
  const host = value.slice(0, colon);
  if (host.includes(':')) throw badBind(text, 'IPv6 addresses must be written in brackets, like [::1]:8000');
  return { kind: 'tcp', host: host || '0.0.0.0', port: parsePort(text, value.slice(colon + 1)) };
}

/** How a bound socket is shown in logs and banners. */
export function formatBind(spec: BindSpec, port?: number): string {
  switch (spec.kind) {
    case 'unix':
      return `unix:${spec.path}`;
    case 'fd':
      return `fd://${spec.fd}`;
    case 'tcp': {
      const host = isIP(spec.host) === 6 ? `[${spec.host}]` : spec.host;
      return `http://${host}:${port ?? spec.port}`;
    }
  }
}

/** The inherited sockets of systemd socket activation, when they are meant for this process. */
export function systemdFds(env: NodeJS.ProcessEnv, pid: number): number[] {
  if (!env.LISTEN_FDS || env.LISTEN_PID !== String(pid)) return [];
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return [];
  // SD_LISTEN_FDS_START is 3 (sd_listen_fds(3)).
  return Array.from({ length: count }, (_, i) => 3 + i);
}
