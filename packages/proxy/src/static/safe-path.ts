/**
 * The path segments of a static request below its mount, or the status that refuses it. Decided
 * on the decoded, dot-normalised path, so `..`, `%2e%2e`, `.%2e` all read as `..`; an encoded
 * slash, backslash or NUL (`%2f`, `%5c`, `%00`) never names a file we serve, so it is refused
 * before decoding can turn it into a separator. Dotfiles are answered 404, as if absent (nginx's
 * usual `location ~ /\. { return 404; }`, which `deploy nginx` renders), except `.well-known`
 * (RFC 8615), which ACME and others need.
 */
export function safeSegments(rawPath: string): string[] | 400 | 403 | 404 {
  if (/%(?:2f|5c|00)/i.test(rawPath)) return 403;
  let decoded: string;
  try {
    decoded = rawPath.includes('%') ? decodeURIComponent(rawPath) : rawPath;
  } catch {
    return 400;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return 403;
  const segments: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return 403;
    if (segment.startsWith('.') && segment !== '.well-known') return 404;
    segments.push(segment);
  }
  return segments;
}

/** Vite/webpack/esbuild content-hashed names (`app.3f9a1c2b.js`, `index-BdQq_4o_.js`): safe to cache forever. */
const HASHED = /[.-](?=[A-Za-z0-9_]*\d)(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,}\.[A-Za-z0-9]+$/;

export function isHashedName(name: string): boolean {
  return HASHED.test(name);
}
