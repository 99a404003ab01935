import { describe, expect, it } from 'vitest';
import { isOwnFile, ownFiles } from './dev-reload.js';
import { defaultSettings } from './settings/resolve.js';

describe('--reload ignores what nodicorn writes', () => {
  const settings = {
    ...defaultSettings({}),
    app: 'app.mjs:app',
    chdir: '/srv/site',
    errorlog: 'logs/error.log',
    accesslog: '/srv/site/access.log',
    pidfile: 'run/nodicorn.pid',
    controlSocket: null,
  };
  const own = ownFiles(settings, [{ kind: 'unix', path: '/srv/site/app.sock' }, { kind: 'tcp', host: '127.0.0.1', port: 8000 }], { NODICORN_STACK_DIR: '/srv/site/state', XDG_RUNTIME_DIR: '/run/user/1000' });

  it('names the logs, pidfile, Unix sockets, control socket and stack state directory, resolved against chdir', () => {
    expect(own).toEqual(['/srv/site/logs/error.log', '/srv/site/access.log', '/srv/site/run/nodicorn.pid', '/srv/site/app.sock', '/run/user/1000/nodicorn/app.mjs_app.sock', '/srv/site/state']);
  });

  it('matches the files, their rotations and what is inside a directory, and nothing else', () => {
    expect(isOwnFile('/srv/site/logs/error.log', own)).toBe(true);
    expect(isOwnFile('/srv/site/access.log.1', own)).toBe(true);
    expect(isOwnFile('/srv/site/state/stack.log', own)).toBe(true);
    expect(isOwnFile('/srv/site/app.mjs', own)).toBe(false);
    expect(isOwnFile('/srv/site/statements.js', own)).toBe(false);
    expect(isOwnFile('/srv/site/logs/other.log', own)).toBe(false);
  });

  it('leaves stderr and stdout logs out', () => {
    expect(ownFiles({ ...settings, errorlog: '-', accesslog: '-', pidfile: null }, [], {})).toEqual([expect.stringMatching(/nodicorn-\d+\/app\.mjs_app\.sock$|nodicorn\/app\.mjs_app\.sock$/)]);
  });
});
