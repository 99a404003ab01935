/** The user and password of an `Authorization: Basic` field (RFC 7617), or null when it is not one. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  if (header === undefined) return null;
  const m = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!m || m[1]!.length % 4 !== 0) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // RFC 7617 §2: the user-id has no colon and neither part has control characters.
  // eslint-disable-next-line no-control-regex
  if (colon < 0 || /[\x00-\x1f\x7f\ufffd]/.test(decoded)) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The 401's challenge: the realm, and that credentials are read as UTF-8 (RFC 7617 §2.1). */
export function basicChallenge(realm: string): string {
  return `Basic realm="${realm}", charset="UTF-8"`;
}
