import { describe, expect, it } from 'vitest';
import { masterHelp, splitMasterArgs } from './master-flags.js';

describe('nodicorn proxy master flags', () => {
  it("takes the master's flags in every spelling and leaves the proxy's alone", () => {
    const { proxyArgv, master, given } = splitMasterArgs(['--workers', '2', '--pid', 'run/p.pid', '-l', 'http://127.0.0.1:0', '-n', 'edge', '--timeout=5', '--control-socket', '/tmp/c.sock', '-u', 'unix:/a.sock']);
    expect(proxyArgv).toEqual(['--workers', '2', '-l', 'http://127.0.0.1:0', '-u', 'unix:/a.sock']);
    expect(master).toEqual({ pidfile: 'run/p.pid', procName: 'edge', timeout: 5, controlSocket: '/tmp/c.sock' });
    expect(given).toEqual(['--pid', '-n', '--timeout', '--control-socket']);
  });

  it("checks their values with the server's own rules", () => {
    expect(() => splitMasterArgs(['--timeout', 'soon'])).toThrow(/timeout/);
    expect(() => splitMasterArgs(['--pid'])).toThrow(/Option --pid needs a value/);
  });

  it("documents them from the server's settings list", () => {
    expect(masterHelp()).toMatch(/^ {2}-p, --pid FILE +Write the master's pid here/m);
    expect(masterHelp()).toMatch(/^ {2}-n, --name STRING/m);
  });
});
