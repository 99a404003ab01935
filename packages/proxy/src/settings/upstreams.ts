import { resolve } from 'node:path';
import { ProxySettingError } from '../errors.js';
import { parseServer, type ServerAddress } from './addresses.js';
import { nearest } from '@nodicorn/settings';
import { refuseUnknownKeys, type KeySet } from './strict-keys.js';

/** nginx's balancing methods: the default weighted round-robin, `least_conn` and `ip_hash`. */
export const BALANCE_METHODS = ['round_robin', 'least_conn', 'ip_hash'] as const;
export type BalanceMethod = (typeof BALANCE_METHODS)[number];

/** One `server` line of an nginx upstream block. */
export interface UpstreamServerSpec {
  readonly address: ServerAddress;
  readonly weight: number;
  /** Used only while every primary server is unavailable (nginx `backup`). */
  readonly backup: boolean;
  /** Permanently out (nginx `down`): kept in the list so ip_hash keeps its mapping. */
  readonly down: boolean;
  /** Overrides of --max-fails / --fail-timeout for this server (seconds). */
  readonly maxFails?: number;
  readonly failTimeout?: number;
}

/** Active health checks (nginx Plus `health_check`; open-source nginx has none). */
export interface HealthCheckSpec {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Inclusive status range counted as a pass (default 200-399, nginx Plus's default match). */
  readonly status: readonly [number, number];
  /** Consecutive passes that bring an unhealthy server back, consecutive failures that take one out. */
  readonly rise: number;
  readonly fall: number;
  /** Probe this TCP port instead of the server's (a nodicorn --metrics-bind serving /readyz). */
  readonly port: number | null;
}

/** A cookie that pins a client to the server that answered it first (nginx Plus `sticky cookie`). */
export interface StickySpec {
  readonly cookie: string;
  /** Max-Age in seconds; null for a session cookie. */
  readonly maxAge: number | null;
  readonly path: string;
}

export interface UpstreamSpec {
  readonly servers: readonly UpstreamServerSpec[];
  readonly balance: BalanceMethod;
  readonly healthCheck: HealthCheckSpec | null;
  readonly sticky: StickySpec | null;
}

const UPSTREAM_KEYS: KeySet = { name: 'an upstream', keys: ['servers', 'balance', 'healthCheck', 'sticky'] };
const SERVER_KEYS: KeySet = { name: 'an upstream server', keys: ['address', 'weight', 'backup', 'down', 'maxFails', 'failTimeout'] };
const HEALTH_KEYS: KeySet = { name: 'healthCheck', keys: ['path', 'interval', 'timeout', 'status', 'rise', 'fall', 'port'] };
const STICKY_KEYS: KeySet = { name: 'sticky', keys: ['cookie', 'maxAge', 'path'] };

/** Where an upstream was written, for its errors: the config or stack file, or a flag. */
let origin = '';

function bad(where: string, problem: string): never {
  throw new ProxySettingError(`Invalid ${where}${origin ? ` (${origin})` : ''}: ${problem}.`, origin ? 'ERR_PROXY_CONFIG_FILE' : 'ERR_PROXY_SETTING');
}

/** An object with only the keys its KeySet names; an unknown one is refused with the nearest valid name. */
function record(value: unknown, set: KeySet, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(where, `expected an object with ${set.keys.join(', ')}, got ${JSON.stringify(value)}`);
  refuseUnknownKeys(value, set, where, origin ? `Config file ${origin}` : 'Invalid');
  return value as Record<string, unknown>;
}

function integer(value: unknown, where: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) bad(where, `expected a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${JSON.stringify(value)}`);
  return value;
}

/** Seconds as a number, or nginx's time text (`500ms`, `10s`, `1m`). */
function seconds(value: unknown, where: string): number {
  if (typeof value === 'number' && value > 0 && Number.isFinite(value)) return value;
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim()) : null;
  if (!m || Number(m[1]) <= 0) bad(where, `expected seconds (5, "500ms", "10s", "1m"), got ${JSON.stringify(value)}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

function address(text: unknown, where: string): ServerAddress {
  const parsed = typeof text === 'string' ? parseServer(text) : `expected unix:PATH or HOST:PORT, got ${JSON.stringify(text)}`;
  if (typeof parsed === 'string') bad(where, parsed);
  return parsed.socketPath ? { ...parsed, socketPath: resolve(parsed.socketPath) } : parsed;
}

/**
 * A server as nginx writes it, `10.0.0.5:8000 weight=3 max_fails=2 fail_timeout=10s backup`, or as
 * an object `{ address, weight, backup, down, maxFails, failTimeout }`.
 */
function serverSpec(item: unknown, where: string): UpstreamServerSpec {
  let fields: Record<string, unknown>;
  if (typeof item === 'string') {
    const [addr, ...params] = item.trim().split(/\s+/);
    fields = { address: addr };
    for (const param of params) {
      const [name, value] = param.split('=', 2) as [string, string | undefined];
      const key = { weight: 'weight', max_fails: 'maxFails', fail_timeout: 'failTimeout', backup: 'backup', down: 'down' }[name];
      if (!key) bad(`${where} "${item}"`, `unknown parameter "${name}"; nginx's are weight=N, max_fails=N, fail_timeout=TIME, backup, down`);
      if ((key === 'backup' || key === 'down') !== (value === undefined)) bad(`${where} "${item}"`, `"${name}" ${value === undefined ? 'needs =VALUE' : 'takes no value'}`);
      fields[key] = key === 'backup' || key === 'down' ? true : key === 'failTimeout' ? value : Number(value);
    }
  } else {
    fields = record(item, SERVER_KEYS, where);
  }
  const flag = (key: string) => {
    const v = fields[key] ?? false;
    if (typeof v !== 'boolean') bad(`${where}.${key}`, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  return {
    address: address(fields.address, typeof item === 'string' ? where : `${where}.address`),
    weight: fields.weight === undefined ? 1 : integer(fields.weight, `${where}.weight`, 1, 1000),
    backup: flag('backup'),
    down: flag('down'),
    ...(fields.maxFails === undefined ? {} : { maxFails: integer(fields.maxFails, `${where}.maxFails`, 0) }),
    ...(fields.failTimeout === undefined ? {} : { failTimeout: seconds(fields.failTimeout, `${where}.failTimeout`) }),
  };
}

/** `200`, `[200, 204]` as a range of one, or `"200-399"`. */
function statusRange(value: unknown, where: string): [number, number] {
  if (typeof value === 'number') return [integer(value, where, 100, 599), value];
  const m = typeof value === 'string' ? /^([1-5]\d\d)-([1-5]\d\d)$/.exec(value.trim()) : null;
  if (!m || Number(m[1]) > Number(m[2])) bad(where, `expected a status (200) or a range ("200-399"), got ${JSON.stringify(value)}`);
  return [Number(m[1]), Number(m[2])];
}

function healthCheck(value: unknown, where: string): HealthCheckSpec | null {
  if (value === undefined || value === false || value === null) return null;
  const h = value === true ? {} : record(value, HEALTH_KEYS, where);
  const path = h.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/') || /[\s#]/.test(path)) bad(`${where}.path`, `expected a path starting with /, got ${JSON.stringify(path)}`);
  const intervalMs = Math.round(seconds(h.interval ?? 5, `${where}.interval`) * 1000);
  const timeoutMs = Math.round(seconds(h.timeout ?? Math.min(intervalMs / 1000, 5), `${where}.timeout`) * 1000);
  return {
    path,
    intervalMs,
    timeoutMs,
    status: h.status === undefined ? [200, 399] : statusRange(h.status, `${where}.status`),
    rise: h.rise === undefined ? 1 : integer(h.rise, `${where}.rise`, 1, 100),
    fall: h.fall === undefined ? 1 : integer(h.fall, `${where}.fall`, 1, 100),
    port: h.port === undefined ? null : integer(h.port, `${where}.port`, 1, 65535),
  };
}

/** RFC 6265 cookie-name: a token. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function sticky(value: unknown, where: string): StickySpec | null {
  if (value === undefined || value === false || value === null) return null;
  const s = value === true ? {} : record(value, STICKY_KEYS, where);
  const cookie = s.cookie ?? 'srv_id';
  if (typeof cookie !== 'string' || !COOKIE_NAME.test(cookie)) bad(`${where}.cookie`, `expected a cookie name (letters, digits, -_.), got ${JSON.stringify(cookie)}`);
  const path = s.path ?? '/';
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) bad(`${where}.path`, `expected a path starting with /, got ${JSON.stringify(path)}`);
  return { cookie, path, maxAge: s.maxAge === undefined ? null : integer(s.maxAge, `${where}.maxAge`, 1) };
}

/**
 * One upstream from a config file: a list of servers (as today) or
 * `{ servers, balance, healthCheck, sticky }`. The rules nginx enforces are enforced here: at least
 * one server that is not `down`, and no `backup` with `ip_hash` (a hash must map a client to the
 * same server, which a backup would break).
 */
export function upstreamSpec(value: unknown, where: string, file = ''): UpstreamSpec {
  origin = file;
  try {
    return parseUpstream(value, where);
  } finally {
    origin = '';
  }
}

function parseUpstream(value: unknown, where: string): UpstreamSpec {
  const list = typeof value === 'string' || Array.isArray(value) ? value : undefined;
  const u = list === undefined ? record(value, UPSTREAM_KEYS, where) : { servers: list };
  const items = typeof u.servers === 'string' ? [u.servers] : u.servers;
  if (!Array.isArray(items) || items.length === 0) bad(list === undefined ? `${where}.servers` : where, `expected a list of unix:PATH or HOST:PORT, got ${JSON.stringify(u.servers)}`);
  // A flag's servers are named by the flag, as the user typed them; a file's by their place in it.
  const servers = items.map((item, i) => serverSpec(item, where.startsWith('--') ? where : `${where}${list === undefined ? '.servers' : ''}[${i}]`));
  const balance = u.balance ?? 'round_robin';
  if (typeof balance !== 'string' || !(BALANCE_METHODS as readonly string[]).includes(balance)) {
    const hint = typeof balance === 'string' ? nearest(balance, BALANCE_METHODS) : undefined;
    bad(`${where}.balance`, `expected one of ${BALANCE_METHODS.join(', ')}, got ${JSON.stringify(balance)}${hint ? `; did you mean "${hint}"?` : ''}`);
  }
  if (servers.every((s) => s.down || s.backup)) bad(where, 'every server is down or backup; at least one primary server must be in service');
  if (balance === 'ip_hash' && servers.some((s) => s.backup)) bad(where, 'backup servers cannot be used with ip_hash (nginx refuses them too); drop backup or the hash');
  return { servers, balance: balance as BalanceMethod, healthCheck: healthCheck(u.healthCheck, `${where}.healthCheck`), sticky: sticky(u.sticky, `${where}.sticky`) };
}

/** The upstream as its startup line shows it: `unix:/a.sock, 10.0.0.6:8000 weight=2 backup; least_conn, health GET /healthz`. */
export function describeUpstream(u: UpstreamSpec): string {
  const servers = u.servers.map((s) => [s.address.label, s.weight !== 1 ? `weight=${s.weight}` : '', s.backup ? 'backup' : '', s.down ? 'down' : ''].filter(Boolean).join(' '));
  const extras = [u.balance !== 'round_robin' ? u.balance : '', u.sticky ? `sticky cookie ${u.sticky.cookie}` : '', u.healthCheck ? `health GET ${u.healthCheck.path} every ${u.healthCheck.intervalMs / 1000}s` : ''].filter(Boolean);
  return `${servers.join(', ')}${extras.length ? `; ${extras.join(', ')}` : ''}`;
}
