import { describe, expect, it } from 'vitest';
import { describeDefault, flagsCell, markdownTable, settingsHelp } from './help.js';
import { defineSettings } from './schema.js';
import { LIST, schemaOf } from './test-fixtures/list.js';

describe('--help', () => {
  it('lists every setting with a flag under its section, with its default', () => {
    const help = settingsHelp(schemaOf());
    expect(help.split('\n\n').map((s) => s.split('\n')[0])).toEqual(['Workers:', 'Limits:']);
    expect(help).toContain(`\n  ${'-w, --workers INT'.padEnd(34)} Worker processes. [default: $WEB_CONCURRENCY or 1]\n`);
    expect(help).toContain(`  ${'-D, --daemon'.padEnd(34)} Run in the background. [default: false]`);
    expect(help).toContain(`  ${'--gzip on|off'.padEnd(34)} Compress responses. [default: false]`);
    expect(help).toContain(`  ${'-b, --bind ADDRESS'.padEnd(34)} Where to listen. [default: none]`);
    expect(help).toContain('Largest body. [default 1k]\n');
    expect(help).not.toContain('The app.');
  });

  it('is one flat list when the settings have no sections', () => {
    const flat = Object.fromEntries(Object.entries(LIST).map(([k, spec]) => [k, { ...spec, section: undefined }]));
    const help = settingsHelp(defineSettings(flat, schemaOf().options));
    expect(help.startsWith('  -w, --workers INT')).toBe(true);
    expect(help).not.toContain('\n\n');
  });
});

describe('docs tables', () => {
  it('escapes pipes so a cell stays one cell', () => {
    expect(markdownTable(['a', 'b'], [['x|y', '`z`']])).toBe('| a | b |\n| --- | --- |\n| x\\|y | `z` |');
  });
  it('shows flags as code and defaults as their doc, none or JSON', () => {
    expect(flagsCell(LIST.workers)).toBe('`-w`, `--workers`');
    expect([describeDefault(LIST.workers), describeDefault(LIST.bind), describeDefault(LIST.logLevel), describeDefault(LIST.pidfile)]).toEqual(['$WEB_CONCURRENCY or 1', 'none', '"info"', 'null']);
  });
});
