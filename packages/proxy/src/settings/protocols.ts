/** How a setting's raw text (a flag value) or typed value (a config file) becomes a checked value. */
export interface ValueType<T> {
  /** Shown in --help: SIZE, SECONDS, URL… */
  readonly meta: string;
  /** Parses one raw flag value; throws an Error whose message says what was expected. */
  parse(raw: string): T;
  /** Checks (and normalises) a value from a config file; throws like parse. */
  from(value: unknown): T;
}

const expected = (what: string, got: unknown) => new Error(`expected ${what}, got ${JSON.stringify(got)}`);

export const intType: ValueType<number> = {
  meta: 'INT',
  parse(raw) {
    if (!/^\d+$/.test(raw.trim())) throw expected('a whole number', raw);
    return Number(raw);
  },
  from(v) {
    if (typeof v === 'string') return intType.parse(v);
    if (!Number.isInteger(v) || (v as number) < 0) throw expected('a whole number', v);
    return v as number;
  },
};

export const secondsType: ValueType<number> = {
  meta: 'SECONDS',
  parse(raw) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw expected('a number of seconds (0 or more)', raw);
    return n;
  },
  from: (v) => (typeof v === 'number' || typeof v === 'string' ? secondsType.parse(String(v)) : failWith('a number of seconds', v)),
};

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** nginx's size syntax: `1m`, `512k`, `1024`. */
export const sizeType: ValueType<number> = {
  meta: 'SIZE',
  parse(raw) {
    const m = /^(\d+)([kmg]?)$/i.exec(raw.trim());
    if (!m) throw expected('a size such as 1m, 512k or 1024', raw);
    return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  },
  from: (v) => (typeof v === 'number' || typeof v === 'string' ? sizeType.parse(String(v)) : failWith('a size', v)),
};

export const booleanType: ValueType<boolean> = {
  meta: 'on|off',
  parse(raw) {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw expected('on or off', raw);
  },
  from: (v) => (typeof v === 'boolean' ? v : typeof v === 'string' ? booleanType.parse(v) : failWith('true or false', v)),
};

export const stringType: ValueType<string> = {
  meta: 'STRING',
  parse: (raw) => raw,
  from: (v) => (typeof v === 'string' ? v : failWith('a string', v)),
};

export const optionalStringType: ValueType<string | null> = {
  meta: 'PATH',
  parse: (raw) => raw,
  from: (v) => (v === null || typeof v === 'string' ? v : failWith('a string or null', v)),
};

/** Repeatable flags; a config file may give one string or a list. */
export const listType: ValueType<string[]> = {
  meta: 'STRING',
  parse: (raw) => [raw],
  from(v) {
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return [...v];
    return failWith('a string or a list of strings', v);
  },
};

/** ALPN names an https listener may offer, in the order it prefers them. */
export const HTTP_PROTOCOLS = ['h2', 'http/1.1'] as const;
export type HttpProtocol = (typeof HTTP_PROTOCOLS)[number];

/** `h2,http/1.1` (nginx `http2 on`) or `http/1.1` (`http2 off`); a config file may give a list. */
export const protocolsType: ValueType<HttpProtocol[]> = {
  meta: 'h2,http/1.1',
  parse(raw) {
    return protocolsType.from(raw.split(',').map((p) => p.trim()).filter(Boolean));
  },
  from(v) {
    const list = typeof v === 'string' ? v.split(',').map((p) => p.trim()).filter(Boolean) : v;
    if (!Array.isArray(list) || list.length === 0) throw expected('a comma-separated list of h2 and http/1.1', v);
    for (const p of list) if (!(HTTP_PROTOCOLS as readonly unknown[]).includes(p)) throw expected('h2 or http/1.1 in the list', p);
    // The server's ALPN preference is its own order, never the caller's: h2 first when offered.
    return HTTP_PROTOCOLS.filter((p) => list.includes(p));
  },
};

function failWith(what: string, got: unknown): never {
  throw expected(what, got);
}
