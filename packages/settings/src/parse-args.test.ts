import { describe, expect, it } from 'vitest';
import { parseArgs } from './parse-args.js';
import { defineSettings } from './schema.js';
import { LIST, schemaOf, thrown } from './test-fixtures/list.js';

const schema = schemaOf({ explainUnknown: (w) => (w === '--preload' || w === 'preload_app' ? "is another tool's preload, which tool does not take: it has no such step." : undefined) });

describe('parseArgs', () => {
  it('reads long, short, attached, inline and repeated flags, and positionals', () => {
    const { values, positionals, flags } = parseArgs(schema, ['-w4', '--timeout=5', '-b', 'a:1', '--bind', 'unix:/x', 'app.js', '--max-body', '1m', '-h']);
    expect(values).toEqual({ workers: 4, timeout: 5, bind: ['a:1', 'unix:/x'], maxBody: 1024 ** 2 });
    expect(positionals).toEqual(['app.js']);
    expect([...flags]).toEqual(['-h']);
  });

  it('takes boolean flags bare or with a value, and valued booleans with one', () => {
    expect(parseArgs(schema, ['--daemon']).values).toEqual({ daemon: true });
    expect(parseArgs(schema, ['--daemon=off']).values).toEqual({ daemon: false });
    expect(parseArgs(schema, ['-Dtrue']).values).toEqual({ daemon: true });
    expect(parseArgs(schema, ['--gzip', 'on']).values).toEqual({ gzip: true });
    expect(parseArgs(schema, ['--gzip=no']).values).toEqual({ gzip: false });
  });

  it('ends the options at --', () => {
    expect(parseArgs(schema, ['-w', '2', '--', '-w', 'x']).positionals).toEqual(['-w', 'x']);
  });

  it('names the nearest flag, or the flag of a setting typed by its name or key', () => {
    expect(thrown(() => parseArgs(schema, ['--worker', '2']))).toMatchObject({ problem: 'usage', message: 'Unknown option --worker. Did you mean --workers? See tool --help.' });
    expect(thrown(() => parseArgs(schema, ['--pidfile', 'x'])).message).toBe('Unknown option --pidfile. Did you mean --pid? See tool --help.');
    expect(thrown(() => parseArgs(schema, ['--log_level', 'info'])).message).toContain('Did you mean --log-level?');
    expect(thrown(() => parseArgs(schema, ['--maxBody', '1'])).message).toContain('Did you mean --max-body?');
    expect(thrown(() => parseArgs(schema, ['--zzzzzzzz'])).message).toBe('Unknown option --zzzzzzzz. See tool --help.');
  });

  it("answers another tool's flag with why", () => {
    expect(thrown(() => parseArgs(schema, ['--preload'])).message).toBe("--preload is another tool's preload, which tool does not take: it has no such step.");
  });

  it('says what a valued flag needs, and why a value is wrong', () => {
    expect(thrown(() => parseArgs(schema, ['--bind']))).toMatchObject({ problem: 'usage', message: 'Option --bind needs a value (ADDRESS).' });
    expect(thrown(() => parseArgs(schema, ['-w', 'two']))).toMatchObject({ problem: 'value', message: 'Invalid value for -w (workers): expected a whole number, got "two".' });
  });

  it('refuses positionals where the command takes none', () => {
    const optionsOnly = schemaOf({ positionals: false });
    expect(thrown(() => parseArgs(optionsOnly, ['-w', '2', 'stray']))).toMatchObject({ problem: 'usage', message: 'Unexpected argument "stray": tool takes only options (see tool --help).' });
    expect(thrown(() => parseArgs(optionsOnly, ['--'])).message).toContain('Unexpected argument "--"');
  });

  it('refuses a list that gives one flag to two settings', () => {
    expect(() => defineSettings({ ...LIST, other: { ...LIST.timeout, flags: ['-w'] } }, { command: 'tool', error: (_p, m) => new Error(m) })).toThrow('-w is declared twice (workers and other)');
  });
});
