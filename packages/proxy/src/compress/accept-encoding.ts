/** A content coding the proxy can produce on the fly. */
export type Encoding = 'br' | 'zstd' | 'gzip';

/**
 * Accept-Encoding (RFC 9110 §12.5.3) as coding → qvalue, lower-cased; `x-gzip` is gzip (§8.4.1.3).
 * A malformed qvalue counts as 0 (refused) rather than 1: when in doubt, send identity.
 */
export function parseAcceptEncoding(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';');
    let coding = name!.trim().toLowerCase();
    if (coding === '') continue;
    if (coding === 'x-gzip') coding = 'gzip';
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*(.*?)\s*$/i.exec(p);
      if (m) q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(m[1]!) ? Number(m[1]) : 0;
    }
    // A coding listed twice keeps its first qvalue, as a client listing it first meant.
    if (!out.has(coding)) out.set(coding, q);
  }
  return out;
}

/**
 * The coding to send, or null for identity. The highest qvalue wins; at equal qvalues the first of
 * `offered` (the proxy's order of preference, br > zstd > gzip: densest first). q=0 refuses, `*`
 * stands for every coding not named, and an explicit `identity;q=X` beats any coding below X.
 * The proxy never answers 406: a client that refuses everything gets identity, as nginx does.
 */
export function chooseEncoding(header: string | undefined, offered: readonly Encoding[]): Encoding | null {
  if (!header) return null;
  const accepted = parseAcceptEncoding(header);
  const star = accepted.get('*');
  const identity = accepted.get('identity') ?? 0;
  let best: Encoding | null = null;
  let bestQ = 0;
  for (const coding of offered) {
    const q = accepted.get(coding) ?? star ?? 0;
    if (q > bestQ && q >= identity) [best, bestQ] = [coding, q];
  }
  return best;
}
