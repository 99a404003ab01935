import type { ValueType } from '@nodicorn/settings';

/** ALPN names an https listener may offer, in the order it prefers them. */
export const HTTP_PROTOCOLS = ['h2', 'http/1.1'] as const;
export type HttpProtocol = (typeof HTTP_PROTOCOLS)[number];

const EXPECTED = 'expected a comma-separated list of h2 and http/1.1';
const listOf = (v: unknown) => (typeof v === 'string' ? v.split(',').map((p) => p.trim()).filter(Boolean) : v);

function problemWith(v: unknown): string | undefined {
  const list = listOf(v);
  if (!Array.isArray(list) || list.length === 0) return `${EXPECTED}, got ${JSON.stringify(v)}`;
  const unknown = list.find((p) => !(HTTP_PROTOCOLS as readonly unknown[]).includes(p));
  return unknown === undefined ? undefined : `expected h2 or http/1.1 in the list, got ${JSON.stringify(unknown)}`;
}

function from(v: unknown): HttpProtocol[] {
  const problem = problemWith(v);
  if (problem) throw new Error(problem);
  const list = listOf(v) as unknown[];
  // The server's ALPN preference is its own order, never the caller's: h2 first when offered.
  return HTTP_PROTOCOLS.filter((p) => list.includes(p));
}

/** `h2,http/1.1` (nginx `http2 on`) or `http/1.1` (`http2 off`); a config file may give a list. */
export const protocolsType: ValueType<HttpProtocol[]> = {
  meta: 'h2,http/1.1',
  parse: from,
  check: (v) => (Array.isArray(v) ? problemWith(v) : `${EXPECTED}, got ${JSON.stringify(v)}`),
  from,
};
