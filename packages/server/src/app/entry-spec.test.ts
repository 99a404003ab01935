import { describe, expect, it } from 'vitest';
import { parseEntrySpec, parseLiteralArgs } from './entry-spec.js';

describe('parseEntrySpec', () => {
  it('takes the default export when no name is given', () => {
    expect(parseEntrySpec('app.js')).toEqual({ text: 'app.js', module: 'app.js', exportPath: ['default'] });
  });
  it('takes a named and a dotted export', () => {
    expect(parseEntrySpec('dist/app.js:app').exportPath).toEqual(['app']);
    expect(parseEntrySpec('server:handlers.main').exportPath).toEqual(['handlers', 'main']);
  });
  it('parses factories with literal arguments', () => {
    expect(parseEntrySpec('dist/app.js:createApp()')).toMatchObject({ module: 'dist/app.js', exportPath: ['createApp'], args: [] });
    expect(parseEntrySpec(`mod:create('x', 3, true, null, "y")`).args).toEqual(['x', 3, true, null, 'y']);
    expect(parseEntrySpec(`mod:create({"a": [1, 2]})`).args).toEqual([{ a: [1, 2] }]);
  });
  it('splits on the last colon that starts a valid name', () => {
    expect(parseEntrySpec('/srv/a:b/app.js:app')).toMatchObject({ module: '/srv/a:b/app.js', exportPath: ['app'] });
  });
  it('rejects non-literal arguments and empty specs with the expected form', () => {
    expect(() => parseEntrySpec('mod:create(process.env.X)')).toThrow(/arguments are not literals.*Expected MODULE\[:NAME\]/);
    expect(() => parseEntrySpec('')).toThrow(/empty/);
    expect(() => parseEntrySpec('app.js:')).toThrow(/nothing follows/);
  });
});

describe('parseLiteralArgs', () => {
  it('handles escapes and quotes inside strings', () => {
    expect(parseLiteralArgs(`'it\\'s', "a,b"`)).toEqual(["it's", 'a,b']);
  });
  it('rejects unterminated strings', () => {
    expect(() => parseLiteralArgs(`'abc`)).toThrow(/unterminated/);
  });
});
