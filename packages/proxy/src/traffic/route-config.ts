import { resolve } from 'node:path';
import { ProxySettingError } from '../errors.js';
import { refuseUnknownKeys, type KeySet } from '../settings/strict-keys.js';
import { accessAddressProblem, type AccessRule } from './access-list.js';
import { HtpasswdError, loadHtpasswd } from './htpasswd.js';
import type { LimitReqRule } from './limit-req.js';

/** What a limit counts by: the client address, a request header's value, or the route as a whole. */
export type LimitKey = { readonly kind: 'addr' } | { readonly kind: 'header'; readonly name: string } | { readonly kind: 'route' };

export interface LimitReqConfig extends LimitReqRule {
  /** As written (`5r/s`), for logs and `deploy nginx`. */
  readonly rateText: string;
  readonly nodelay: boolean;
  readonly key: LimitKey;
  readonly status: number;
}

export interface LimitConnConfig {
  readonly max: number;
  readonly key: LimitKey;
  readonly status: number;
}

export interface AuthConfig {
  /** Absolute path of the htpasswd file. */
  readonly file: string;
  readonly realm: string;
  /** Send the client's Authorization upstream (nginx does by default). */
  readonly forward: boolean;
}

/** A route's traffic control, in the order nginx's phases apply it: limit_req, limit_conn, access, auth_basic. */
export interface RouteTraffic {
  readonly limitReq: LimitReqConfig | null;
  readonly limitConn: LimitConnConfig | null;
  readonly access: readonly AccessRule[];
  readonly auth: AuthConfig | null;
}

export const TRAFFIC_ROUTE_KEYS = ['limitReq', 'limitConn', 'allow', 'deny', 'access', 'auth'] as const;
const LIMIT_REQ_KEYS: KeySet = { name: 'limitReq', keys: ['rate', 'burst', 'nodelay', 'delay', 'key', 'status'] };
const LIMIT_CONN_KEYS: KeySet = { name: 'limitConn', keys: ['max', 'key', 'status'] };
const AUTH_KEYS: KeySet = { name: 'auth', keys: ['file', 'realm', 'forward'] };
const ACCESS_ENTRY_KEYS: KeySet = { name: 'an access entry', keys: ['allow', 'deny'] };

/** How a route's traffic keys are read: where errors are reported, and what relative paths mean. */
interface Context {
  /** `routes[2]` */
  readonly path: string;
  /** `Config file proxy.json` */
  readonly where: string;
  readonly baseDir: string;
}

function fail(ctx: Context, key: string, problem: string): never {
  throw new ProxySettingError(`${ctx.where}: ${ctx.path}.${key} ${problem}.`, 'ERR_PROXY_CONFIG_FILE');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function whole(ctx: Context, key: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < min) fail(ctx, key, `must be a whole number of at least ${min}, got ${JSON.stringify(value)}`);
  return value as number;
}

function limitKey(ctx: Context, key: string, value: unknown): LimitKey {
  if (value === undefined || value === 'addr') return { kind: 'addr' };
  if (value === 'route') return { kind: 'route' };
  if (typeof value === 'string' && /^header:[A-Za-z0-9-]+$/.test(value)) return { kind: 'header', name: value.slice(7).toLowerCase() };
  return fail(ctx, key, `must be "addr", "route" or "header:NAME" (a header such as header:X-Api-Key), got ${JSON.stringify(value)}`);
}

function status(ctx: Context, key: string, value: unknown): number {
  if (value === undefined) return 503;
  // nginx's limit_req_status and limit_conn_status take 400 to 599.
  if (!Number.isInteger(value) || (value as number) < 400 || (value as number) > 599) fail(ctx, key, `must be a status from 400 to 599 (429 or nginx's default 503), got ${JSON.stringify(value)}`);
  return value as number;
}

/** nginx's rate syntax: `5r/s` or `30r/m`, kept in nginx's milli-requests per second. */
function rate(ctx: Context, value: unknown): { rate: number; rateText: string } {
  const m = typeof value === 'string' ? /^(\d+)r\/([sm])$/.exec(value) : null;
  const n = m ? Number(m[1]) : 0;
  const milli = m?.[2] === 'm' ? Math.trunc((n * 1000) / 60) : n * 1000;
  if (!m || milli <= 0) fail(ctx, 'limitReq.rate', `must be requests per second or minute such as "5r/s" or "30r/m", got ${JSON.stringify(value)}`);
  return { rate: milli, rateText: value as string };
}

function limitReq(ctx: Context, value: unknown): LimitReqConfig | null {
  if (value === undefined) return null;
  if (!isObject(value)) fail(ctx, 'limitReq', `must be { rate: "5r/s", burst, nodelay, delay, key, status }, got ${JSON.stringify(value)}`);
  refuseUnknownKeys(value, LIMIT_REQ_KEYS, `${ctx.path}.limitReq`, ctx.where);
  if (value.nodelay !== undefined && typeof value.nodelay !== 'boolean') fail(ctx, 'limitReq.nodelay', `must be true or false, got ${JSON.stringify(value.nodelay)}`);
  if (value.nodelay === true && value.delay !== undefined) fail(ctx, 'limitReq.delay', 'and nodelay exclude each other (nodelay passes the whole burst at once); keep one');
  const burst = whole(ctx, 'limitReq.burst', value.burst, 0);
  const nodelay = value.nodelay === true;
  return {
    ...rate(ctx, value.rate),
    burst,
    nodelay,
    delay: nodelay ? Infinity : whole(ctx, 'limitReq.delay', value.delay, 0),
    key: limitKey(ctx, 'limitReq.key', value.key),
    status: status(ctx, 'limitReq.status', value.status),
  };
}

function limitConn(ctx: Context, value: unknown): LimitConnConfig | null {
  if (value === undefined) return null;
  if (!isObject(value)) fail(ctx, 'limitConn', `must be { max, key, status }, got ${JSON.stringify(value)}`);
  refuseUnknownKeys(value, LIMIT_CONN_KEYS, `${ctx.path}.limitConn`, ctx.where);
  if (value.max === undefined) fail(ctx, 'limitConn.max', 'is required: the most requests in progress per key');
  return { max: whole(ctx, 'limitConn.max', value.max, 0, 1), key: limitKey(ctx, 'limitConn.key', value.key), status: status(ctx, 'limitConn.status', value.status) };
}

function addresses(ctx: Context, key: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) fail(ctx, key, `must be a list of addresses, CIDR ranges or "all", got ${JSON.stringify(value)}`);
  return list.map((item, i) => {
    const problem = typeof item === 'string' ? accessAddressProblem(item) : `expected a string, got ${JSON.stringify(item)}`;
    if (problem) fail(ctx, `${key}[${i}]`, problem);
    return item as string;
  });
}

/**
 * `allow: [...]` and `deny: [...]` read as nginx lines with every allow written before every deny
 * (the usual `allow 10.0.0.0/8; deny all;`); `access: [{ deny: ... }, { allow: ... }]` keeps any
 * order, for a deny carved out of an allowed range. One form per route.
 */
function access(ctx: Context, raw: Record<string, unknown>): AccessRule[] {
  if (raw.access !== undefined) {
    if (raw.allow !== undefined || raw.deny !== undefined) fail(ctx, 'access', 'replaces allow and deny (it is the ordered form of both); give one or the other');
    if (!Array.isArray(raw.access)) fail(ctx, 'access', `must be a list such as [{ "deny": "10.0.0.5" }, { "allow": "10.0.0.0/8" }, { "deny": "all" }], got ${JSON.stringify(raw.access)}`);
    return raw.access.flatMap((entry, i): AccessRule[] => {
      const path = `access[${i}]`;
      if (!isObject(entry) || Object.keys(entry).length !== 1) fail(ctx, path, `must be { "allow": ADDRESS } or { "deny": ADDRESS }, got ${JSON.stringify(entry)}`);
      refuseUnknownKeys(entry, ACCESS_ENTRY_KEYS, `${ctx.path}.${path}`, ctx.where);
      const action = 'allow' in entry ? 'allow' : 'deny';
      return addresses(ctx, `${path}.${action}`, entry[action]).map((address) => ({ action, address }));
    });
  }
  const allow = raw.allow === undefined ? [] : addresses(ctx, 'allow', raw.allow);
  const deny = raw.deny === undefined ? [] : addresses(ctx, 'deny', raw.deny);
  return [...allow.map((address) => ({ action: 'allow' as const, address })), ...deny.map((address) => ({ action: 'deny' as const, address }))];
}

function auth(ctx: Context, value: unknown): AuthConfig | null {
  if (value === undefined) return null;
  const spec = typeof value === 'string' ? { file: value } : value;
  if (!isObject(spec)) fail(ctx, 'auth', `must be an htpasswd file path or { file, realm, forward }, got ${JSON.stringify(value)}`);
  refuseUnknownKeys(spec, AUTH_KEYS, `${ctx.path}.auth`, ctx.where);
  if (typeof spec.file !== 'string' || spec.file === '') fail(ctx, 'auth.file', `must be the path of an htpasswd file, got ${JSON.stringify(spec.file)}`);
  const realm = spec.realm ?? 'Restricted';
  // The realm is written inside a quoted-string: a quote, backslash or control byte would break the header.
  // eslint-disable-next-line no-control-regex
  if (typeof realm !== 'string' || realm === '' || /["\\\x00-\x1f\x7f]/.test(realm)) fail(ctx, 'auth.realm', `must be text without quotes, backslashes or control characters, got ${JSON.stringify(realm)}`);
  if (spec.forward !== undefined && typeof spec.forward !== 'boolean') fail(ctx, 'auth.forward', `must be true or false, got ${JSON.stringify(spec.forward)}`);
  const file = resolve(ctx.baseDir, spec.file);
  try {
    loadHtpasswd(file);
  } catch (err) {
    if (err instanceof HtpasswdError) fail(ctx, 'auth', err.message);
    throw err;
  }
  return { file, realm, forward: spec.forward !== false };
}

/** A route's traffic keys, checked; null when it has none (the request path then does no extra work). */
export function routeTraffic(raw: Record<string, unknown>, ctx: Context): RouteTraffic | null {
  if (!TRAFFIC_ROUTE_KEYS.some((k) => raw[k] !== undefined)) return null;
  return { limitReq: limitReq(ctx, raw.limitReq), limitConn: limitConn(ctx, raw.limitConn), access: access(ctx, raw), auth: auth(ctx, raw.auth) };
}
