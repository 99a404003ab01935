/**
 * nginx `server_name` matching, without regular expressions: exact names first, then the longest
 * leading wildcard (`*.example.com` covers `a.example.com` and `a.b.example.com`, not
 * `example.com`); `.example.com` is nginx's shorthand for the name and all its subdomains, matched
 * as a wildcard of that length (so an exact `example.com` elsewhere still wins).
 */

/** A Host as names are compared: lower case, no port, no IPv6 brackets, no trailing dot. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(1, end);
  }
  const colon = h.lastIndexOf(':');
  // One colon is a port; more is a bare IPv6 address (no port possible without brackets).
  if (colon >= 0 && h.indexOf(':') === colon) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

/** Why `name` is not a server name this matcher takes, or undefined when it is one. */
export function serverNameProblem(name: string): string | undefined {
  const n = name.toLowerCase();
  if (n === '') return 'is empty';
  if (n.includes(':')) return /^[0-9a-f:.]+$/.test(n) ? undefined : 'is not a host name';
  const bare = n.startsWith('*.') ? n.slice(2) : n.startsWith('.') ? n.slice(1) : n.endsWith('.') ? n.slice(0, -1) : n;
  if (bare.split('.').every((l) => LABEL.test(l))) return undefined;
  return bare.includes('*') ? 'may only use * as a whole leading label (*.example.com); regex and trailing wildcards are not supported' : 'is not a host name';
}

interface Wildcard<T> {
  /** The part after `*.` (or after the leading `.`). */
  readonly suffix: string;
  /** `.example.com`: also matches `example.com` itself. */
  readonly bare: boolean;
  readonly value: T;
}

export class ServerNames<T> {
  readonly #exact = new Map<string, T>();
  /** Longest suffix first: the most specific wildcard wins, as in nginx. */
  #wildcards: Wildcard<T>[] = [];

  /** Adds one configured name; returns the value already holding it, if any (a conflict). */
  add(name: string, value: T): T | undefined {
    const n = name.toLowerCase().replace(/\.$/, '');
    if (n.startsWith('*.') || (n.startsWith('.') && n.length > 1)) {
      const bare = !n.startsWith('*.');
      const suffix = n.slice(bare ? 1 : 2);
      const clash = this.#wildcards.find((w) => w.suffix === suffix && (w.bare || bare));
      if (clash) return clash.value;
      this.#wildcards.push({ suffix, bare, value });
      this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
      return undefined;
    }
    if (this.#exact.has(n)) return this.#exact.get(n);
    this.#exact.set(n, value);
    return undefined;
  }

  /** The value for a Host or SNI name (normalised here), or undefined when no name covers it. */
  match(host: string): T | undefined {
    const h = normaliseHost(host);
    const exact = this.#exact.get(h);
    if (exact !== undefined) return exact;
    for (const w of this.#wildcards) {
      if (h.length > w.suffix.length + 1 && h.endsWith(w.suffix) && h.charCodeAt(h.length - w.suffix.length - 1) === 46) return w.value;
      if (w.bare && h === w.suffix) return w.value;
    }
    return undefined;
  }
}
