import { describe, expect, it } from 'vitest';
import { isHashedName, safeSegments } from './safe-path.js';

describe('safeSegments', () => {
  it.each([
    ['/a/b.css', ['a', 'b.css']],
    ['/a//./b.css', ['a', 'b.css']],
    ['/caf%C3%A9.txt', ['café.txt']],
    ['/.well-known/acme-challenge/x', ['.well-known', 'acme-challenge', 'x']],
    ['', []],
  ])('%s -> %j', (raw, expected) => expect(safeSegments(raw)).toEqual(expected));

  it.each(['/../etc/passwd', '/a/%2e%2e/b', '/a/%2E%2e/b', '/%2e%2e%2fetc', '/a%2fb', '/a%5cb', '/a%00b', '/a\\..\\b'])(
    'refuses %s',
    (raw) => expect(safeSegments(raw)).toBe(403),
  );

  it.each(['/.env', '/a/.git/config', '/%2egit/config'])('answers the dotfile %s as absent', (raw) => expect(safeSegments(raw)).toBe(404));

  it('answers 400 for malformed percent-encoding', () => expect(safeSegments('/%E0%A4%A')).toBe(400));
});

describe('isHashedName', () => {
  it.each(['app.3f9a1c2b.js', 'index-BdQq_4o_.js', 'chunk.a1b2c3d4e5.css'])('%s is hashed', (n) => expect(isHashedName(n)).toBe(true));
  it.each(['app.js', 'jquery.something.js', 'index.html', 'favicon.ico', 'report-2024.pdf'])('%s is not', (n) => expect(isHashedName(n)).toBe(false));
});
