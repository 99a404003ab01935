import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_KEYS, SETTINGS } from './definitions.js';
import { settingsHelp, settingsMarkdown } from './help.js';
import { resolveServeSettings } from './load.js';
import { nearest } from '@nodicorn/settings';
import { parseArgs, splitCommandLine } from './parse-args.js';
import { umaskType } from '@nodicorn/settings';

describe('parseArgs', () => {
  it('reads long, short, attached and repeated flags', () => {
    const { values, positionals } = parseArgs(['-w4', '--timeout=5', '-b', 'a:1', '--bind', 'unix:/x', 'app.js:app', '--keep-alive', '0']);
    expect(values).toEqual({ workers: 4, timeout: 5, bind: ['a:1', 'unix:/x'], keepalive: 0 });
    expect(positionals).toEqual(['app.js:app']);
  });
  it('takes boolean flags without a value', () => {
    expect(parseArgs(['--check-config', 'app.js']).values).toEqual({ checkConfig: true });
  });
  it('names the nearest flag for a typo', () => {
    expect(() => parseArgs(['--worker', '2'])).toThrow('Unknown option --worker. Did you mean --workers?');
    // A setting typed by its Gunicorn name: its flag, which spelling distance would miss (--pidfile → --keyfile).
    expect(() => parseArgs(['--pidfile', 'x.pid'])).toThrow('Unknown option --pidfile. Did you mean --pid?');
    expect(() => parseArgs(['--worker_class', 'sync'])).toThrow('Did you mean --worker-class?');
  });
  it("answers a Gunicorn flag it does not take with Gunicorn's setting and why", () => {
    expect(() => parseArgs(['--preload'])).toThrow(/^--preload is Gunicorn's preload_app, which nodicorn does not take: Node cannot fork a process that has a running V8 heap/);
    expect(() => parseArgs(['--threads', '4'])).toThrow(/--threads is Gunicorn's threads, .*one event loop/);
    expect(() => parseArgs(['--log-syslog'])).toThrow(/journald/);
    expect(() => parseArgs(['--ssl-version', 'TLSv1_2'])).toThrow(/^--ssl-version is Gunicorn's ssl_version, .*use `--tls-min-version TLSv1\.2\|TLSv1\.3`/);
    expect(() => parseArgs(['--do-handshake-on-connect'])).toThrow(/always handshakes as a connection is accepted/);
    // What nodicorn now takes is a setting, not a reason.
    expect(parseArgs(['--cert-reqs', '2', '--ca-certs', 'ca.pem', '--ciphers', 'HIGH', '--statsd-host', '[::1]:8125', '--statsd-prefix', 'svc', '--dogstatsd-tags', 'env:prod']).values).toMatchObject({ certReqs: 'required', caCerts: 'ca.pem', ciphers: 'HIGH', statsdHost: '[::1]:8125', statsdPrefix: 'svc', dogstatsdTags: 'env:prod' });
  });
  it('names the setting and what it expected for a bad value', () => {
    expect(() => parseArgs(['-w', 'two'])).toThrow('Invalid value for -w (workers): expected a whole number, got "two".');
    expect(() => parseArgs(['--log-level', 'loud'])).toThrow(/expected one of debug, info, warning, error, critical/);
  });
  it('needs a value after a valued flag', () => {
    expect(() => parseArgs(['--bind'])).toThrow(/needs a value/);
  });
});

describe('resolveServeSettings', () => {
  const nowhere = '/nonexistent-nodicorn-dir';
  it('layers defaults/env < NODICORN_CMD_ARGS < command line', async () => {
    const env = { WEB_CONCURRENCY: '3', PORT: '9999', NODICORN_CMD_ARGS: '-w 5 --timeout 7' };
    const { settings } = await resolveServeSettings(['--timeout', '9', 'app.js'], env, nowhere);
    expect(settings.workers).toBe(5);
    expect(settings.timeout).toBe(9);
    expect(settings.bind).toEqual(['0.0.0.0:9999']);
    expect((await resolveServeSettings(['app.js'], { WEB_CONCURRENCY: '3' }, nowhere)).settings.workers).toBe(3);
  });
  it('requires exactly one APP', async () => {
    await expect(resolveServeSettings([], {}, nowhere)).rejects.toThrow(/No APP given/);
    await expect(resolveServeSettings(['a.js', 'b.js'], {}, nowhere)).rejects.toThrow(/Expected one APP/);
  });
  it('validates ranges with the setting named', async () => {
    await expect(resolveServeSettings(['-w', '0', 'a.js'], {}, nowhere)).rejects.toThrow('Invalid workers (-w, --workers): must be at least 1, got 0.');
    await expect(resolveServeSettings(['--forwarded-allow-ips', 'evil', 'a.js'], {}, nowhere)).rejects.toThrow(/"evil" is not an IP address/);
  });
});

describe('splitCommandLine', () => {
  it('splits like a shell for simple quoting', () => {
    expect(splitCommandLine(`-w 2 --access-logformat '%(h)s %(r)s' -e "A=b c"`)).toEqual(['-w', '2', '--access-logformat', '%(h)s %(r)s', '-e', 'A=b c']);
    expect(() => splitCommandLine(`'open`)).toThrow(/unterminated/);
  });
});

describe('the settings list', () => {
  it('gives every setting a doc, and every flag to one setting only', () => {
    const flags = SETTING_KEYS.flatMap((k) => SETTINGS[k].flags);
    expect(new Set(flags).size).toBe(flags.length);
    for (const key of SETTING_KEYS) expect(SETTINGS[key].doc.length).toBeGreaterThan(10);
  });
  it('derives --help from the list', () => {
    const help = settingsHelp();
    for (const key of SETTING_KEYS) for (const flag of SETTINGS[key].flags) expect(help).toContain(flag);
  });
  it('keeps docs/settings.md in step with the list', () => {
    const committed = readFileSync(new URL('../../../../docs/settings.md', import.meta.url), 'utf8');
    expect(committed, 'docs/settings.md is stale: run `pnpm --filter @nodicorn/server gen:docs`').toBe(settingsMarkdown());
  });
});

describe('value types', () => {
  it('reads umasks in octal as Gunicorn does', () => {
    expect(umaskType.parse('0o077')).toBe(0o077);
    expect(umaskType.parse('0077')).toBe(0o077);
    expect(umaskType.parse('18')).toBe(18);
    expect(() => umaskType.parse('0o999')).toThrow(/octal/);
  });
  it('suggests near names only', () => {
    expect(nearest('--bnd', ['--bind', '--backlog'])).toBe('--bind');
    expect(nearest('--zzzzzz', ['--bind'])).toBeUndefined();
  });
});

describe('accept modes', async () => {
  const { acceptModeFor, supportsReusePort } = await import('../sockets/accept-mode.js');
  it('maps dispatch and worker class to who accepts', () => {
    expect(acceptModeFor('shared', 'async', [])).toBe('workers');
    expect(acceptModeFor('round-robin', 'async', [])).toBe('master');
    expect(acceptModeFor('shared', 'sync', [])).toBe('master');
    expect(acceptModeFor('reuse-port', 'async', [{ kind: 'tcp', host: '::', port: 80 }], '24.1.0')).toBe('reuse-port');
  });
  it('refuses combinations that cannot work, saying why', () => {
    expect(() => acceptModeFor('reuse-port', 'sync', [])).toThrow(/cannot be combined with --worker-class sync/);
    expect(() => acceptModeFor('reuse-port', 'async', [], '20.19.0')).toThrow(/needs Node >= 22\.12 \(this is 20\.19\.0\)/);
    expect(() => acceptModeFor('reuse-port', 'async', [{ kind: 'tcp', host: '::', port: 0 }], '24.0.0')).toThrow(/fixed TCP ports/);
  });
  it('detects reusePort by version', () => {
    expect(supportsReusePort('20.19.2')).toBe(false);
    expect(supportsReusePort('22.11.0')).toBe(false);
    expect(supportsReusePort('22.12.0')).toBe(true);
    expect(supportsReusePort('23.1.0')).toBe(true);
    expect(supportsReusePort('24.0.0')).toBe(true);
  });
});
