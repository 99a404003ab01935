import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { stat, readFile } from 'node:fs/promises';
import aprMd5 from 'apache-md5';
import bcrypt from 'bcryptjs';
import { ProxySettingError } from '../errors.js';

/** One user's stored password, checked in the scheme its prefix names. */
type Verifier = (password: string) => Promise<boolean>;

/** Equal-length comparison that takes the same time wherever the inputs differ. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  // Digests of the inputs, so unequal lengths neither throw nor leak through an early return.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

const sha1 = (...parts: Buffer[]) => {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * The schemes nginx's auth_basic_user_file reads, less crypt(3): bcrypt ($2y$, $2a$, $2b$; Apache's
 * `htpasswd -B`), Apache MD5 ($apr1$; `htpasswd -m`, the Debian default), {SHA} (`htpasswd -s`),
 * {SSHA} and {PLAIN}. Returns what is wrong for a hash it cannot check.
 */
export function verifierFor(hash: string): Verifier | string {
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) {
    // bcryptjs checks $2y$ as $2a$/$2b$ (the same algorithm; only the name differs by implementation).
    const normal = hash.replace(/^\$2y\$/, '$2b$');
    return (password) => bcrypt.compare(password, normal);
  }
  if (/^\$apr1\$[^$]{0,8}\$[./A-Za-z0-9]{22}$/.test(hash)) {
    const stored = Buffer.from(hash);
    return async (password) => sameBytes(Buffer.from(aprMd5(password, hash)), stored);
  }
  if (hash.startsWith('{SHA}')) {
    const stored = Buffer.from(hash.slice(5), 'base64');
    if (stored.length !== 20) return 'its {SHA} digest is not 20 bytes of base64';
    return async (password) => sameBytes(sha1(Buffer.from(password)), stored);
  }
  if (hash.startsWith('{SSHA}')) {
    const raw = Buffer.from(hash.slice(6), 'base64');
    if (raw.length <= 20) return 'its {SSHA} value is not a 20-byte digest followed by a salt';
    const [digest, salt] = [raw.subarray(0, 20), raw.subarray(20)];
    return async (password) => sameBytes(sha1(Buffer.from(password), salt), digest);
  }
  if (hash.startsWith('{PLAIN}')) {
    const stored = Buffer.from(hash.slice(7));
    return async (password) => sameBytes(Buffer.from(password), stored);
  }
  if (/^\$(1|5|6|y|gy|7)\$/.test(hash) || /^[./A-Za-z0-9]{13}$/.test(hash)) return 'crypt(3) hashes ($1$, $5$, $6$, yescrypt, DES) are not supported; write the password again with htpasswd -B (bcrypt)';
  return 'the hash is none of bcrypt ($2y$), $apr1$, {SHA}, {SSHA} or {PLAIN}; write it with htpasswd -B';
}

/** An htpasswd file that cannot be read or holds a line the proxy cannot check: a config error (exit 2). */
export class HtpasswdError extends ProxySettingError {
  constructor(message: string) {
    super(message, 'ERR_PROXY_CONFIG_FILE');
    this.name = 'HtpasswdError';
  }
}

/**
 * `user:hash[:comment]` lines, as nginx reads them: `#` comments and blank lines skipped. Every
 * entry must be checkable: a line the proxy could never match is a config error, not a user who
 * silently cannot log in.
 */
export function parseHtpasswd(text: string, file: string): Map<string, Verifier> {
  const users = new Map<string, Verifier>();
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HtpasswdError(`${file} line ${i + 1}: expected user:hash`);
    const user = line.slice(0, colon);
    const rest = line.slice(colon + 1);
    const end = rest.indexOf(':');
    const verifier = verifierFor(end < 0 ? rest : rest.slice(0, end));
    if (typeof verifier === 'string') throw new HtpasswdError(`${file} line ${i + 1} (user ${JSON.stringify(user)}): ${verifier}`);
    users.set(user, verifier);
  }
  return users;
}

/** Reads and checks a file at startup or reload; throws HtpasswdError saying what to fix. */
export function loadHtpasswd(file: string): Map<string, Verifier> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HtpasswdError(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseHtpasswd(text, file);
}

const signatureOf = (s: Stats) => `${s.mtimeMs}:${s.size}:${s.ino}`;

/** How often a request may trigger a look at whether the file changed (nginx re-reads it on every request). */
const STAT_INTERVAL_MS = 1000;
/** Users whose last good password is remembered, so a bcrypt check is paid once, not per request. */
const REMEMBERED = 1024;

/**
 * An htpasswd file kept current: re-read when its modification time or size changes, looked at no
 * more than once a second and off the request path (the request in hand uses what was loaded).
 * A file that breaks or vanishes keeps the last good users and is reported once.
 */
export class HtpasswdFile {
  #users: Map<string, Verifier>;
  #checked = Date.now();
  #signature = '';
  #busy = false;
  #reported = false;
  /** user → SHA-256 of the password that last passed; cleared whenever the file is re-read. */
  readonly #remembered = new Map<string, Buffer>();

  constructor(
    readonly file: string,
    private readonly errorLog: (message: string) => void,
  ) {
    // Stat before reading: a change after the stat is then seen as a change by the next look.
    try {
      this.#signature = signatureOf(statSync(file));
    } catch {
      // loadHtpasswd says what is wrong with a file that cannot be read.
    }
    this.#users = loadHtpasswd(file);
  }

  async verify(user: string, password: string): Promise<boolean> {
    this.#maybeRefresh();
    const digest = createHash('sha256').update(user).update('\0').update(password).digest();
    const known = this.#remembered.get(user);
    if (known && timingSafeEqual(known, digest)) return true;
    const verifier = this.#users.get(user);
    if (!verifier) {
      // Pay for a real check anyway, so an unknown user answers no faster than a wrong password.
      const any = this.#users.values().next().value;
      if (any) await any(password);
      return false;
    }
    const ok = await verifier(password);
    if (ok) {
      if (this.#remembered.size >= REMEMBERED) this.#remembered.delete(this.#remembered.keys().next().value!);
      this.#remembered.set(user, digest);
    }
    return ok;
  }

  #maybeRefresh(): void {
    const now = Date.now();
    if (this.#busy || now - this.#checked < STAT_INTERVAL_MS) return;
    this.#checked = now;
    void this.#refresh();
  }

  async #refresh(): Promise<void> {
    this.#busy = true;
    try {
      const signature = signatureOf(await stat(this.file));
      if (signature === this.#signature) return;
      this.#signature = signature;
      this.#users = parseHtpasswd(await readFile(this.file, 'utf8'), this.file);
      this.#remembered.clear();
      this.#reported = false;
    } catch (err) {
      if (!this.#reported) this.errorLog(`auth_basic_user_file ${this.file}: ${(err as Error).message}; keeping the users read before`);
      this.#reported = true;
    } finally {
      this.#busy = false;
    }
  }
}
