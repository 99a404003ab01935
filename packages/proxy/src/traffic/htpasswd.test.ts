import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it, vi } from 'vitest';

// The real timingSafeEqual, watched: the test below checks digests are compared through it.
vi.mock('node:crypto', async (original) => {
  const real = await original<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: vi.fn(real.timingSafeEqual) };
});
import { HtpasswdError, HtpasswdFile, parseHtpasswd, verifierFor } from './htpasswd.js';

const dir = mkdtempSync(join(tmpdir(), 'ndc-htp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (pw: string) => `{SHA}${createHash('sha1').update(pw).digest('base64')}`;
const ssha = (pw: string, salt: Buffer) => `{SSHA}${Buffer.concat([createHash('sha1').update(pw).update(salt).digest(), salt]).toString('base64')}`;
// openssl writes Apache's $apr1$ independently of the library the proxy checks it with.
const apr1 = (pw: string) => execFileSync('openssl', ['passwd', '-apr1', pw], { encoding: 'utf8' }).trim();

describe('htpasswd schemes', () => {
  it.each([
    ['bcrypt $2y$ (htpasswd -B)', bcrypt.hashSync('secret', 4).replace(/^\$2b\$/, '$2y$')],
    ['bcrypt $2a$', bcrypt.hashSync('secret', 4).replace(/^\$2b\$/, '$2a$')],
    ['bcrypt $2b$', bcrypt.hashSync('secret', 4)],
    ['$apr1$ (htpasswd -m)', apr1('secret')],
    ['{SHA} (htpasswd -s)', sha('secret')],
    ['{SSHA}', ssha('secret', Buffer.from('salty'))],
    ['{PLAIN}', '{PLAIN}secret'],
  ])('%s: the right password passes, a wrong one, a longer one and an empty one do not', async (_name, hash) => {
    const verify = verifierFor(hash);
    expect(typeof verify).toBe('function');
    if (typeof verify === 'string') return;
    expect(await verify('secret')).toBe(true);
    for (const wrong of ['Secret', 'secret ', 'secre', '']) expect(await verify(wrong)).toBe(false);
  });

  it('refuses crypt(3) and unknown schemes with the fix', () => {
    expect(verifierFor('$6$salt$abcdef')).toMatch(/crypt\(3\).*htpasswd -B/);
    expect(verifierFor('abJnggxhB/yWI')).toMatch(/crypt\(3\)/);
    expect(verifierFor('plain-text')).toMatch(/none of bcrypt/);
    expect(() => parseHtpasswd('# staff\nalice:{PLAIN}a\n\nbob:$1$x$y:comment\n', 'users')).toThrow(/users line 4 \(user "bob"\): crypt/);
    expect(() => parseHtpasswd('just-a-name\n', 'users')).toThrow(HtpasswdError);
    expect([...parseHtpasswd('alice:{PLAIN}a:the comment\r\n', 'u').keys()]).toEqual(['alice']);
  });

  it('compares digests with crypto.timingSafeEqual', async () => {
    const { timingSafeEqual } = await import('node:crypto');
    const spy = vi.mocked(timingSafeEqual);
    spy.mockClear();
    const verify = verifierFor(sha('secret'));
    if (typeof verify === 'string') throw new Error(verify);
    expect(await verify('nope')).toBe(false);
    expect(spy).toHaveBeenCalled();
  });
});

describe('HtpasswdFile', () => {
  it('re-reads the file when it changes, and keeps the old users when the new file is broken', async () => {
    const file = join(dir, 'users');
    writeFileSync(file, `alice:${sha('one')}\n`);
    const errors: string[] = [];
    const users = new HtpasswdFile(file, (m) => errors.push(m));
    expect(await users.verify('alice', 'one')).toBe(true);
    expect(await users.verify('bob', 'two')).toBe(false);
    writeFileSync(file, `alice:${sha('uno')}\nbob:${sha('two')}\n`);
    // Looked at no more than once a second: wait for the re-read rather than sleeping a fixed time.
    await vi.waitFor(async () => expect(await users.verify('bob', 'two')).toBe(true), { timeout: 5000, interval: 100 });
    expect(await users.verify('alice', 'one')).toBe(false);
    writeFileSync(file, 'broken line\n');
    // Each request may trigger the look; the one in hand still uses the users loaded before.
    await vi.waitFor(async () => {
      expect(await users.verify('bob', 'two')).toBe(true);
      expect(errors.join()).toMatch(/users line 1: expected user:hash; keeping the users read before/);
    }, { timeout: 5000, interval: 100 });
  });
});
