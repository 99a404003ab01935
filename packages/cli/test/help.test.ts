import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NODICORN_BIN } from '@nodicorn/testkit';

const nodicorn = (...args: string[]) => spawnSync(process.execPath, [NODICORN_BIN, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('nodicorn explains itself', () => {
  it('--help lists every subcommand and --version beside the server options', () => {
    const run = nodicorn('--help');
    expect(run.status).toBe(0);
    for (const command of ['proxy', 'stack', 'deploy', 'status', 'ctl']) expect(run.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    expect(run.stdout).toMatch(/nodicorn --version/);
    expect(run.stdout).toMatch(/-b, --bind ADDRESS/);
  });

  it('help COMMAND prints that command\'s help; help alone the server\'s; an unknown one names those there are', () => {
    for (const command of ['proxy', 'stack', 'deploy', 'status', 'ctl']) {
      const run = nodicorn('help', command);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: nodicorn ${command}\\b`));
    }
    expect(nodicorn('help').stdout).toMatch(/^Usage: nodicorn \[OPTIONS\] APP/);
    const unknown = nodicorn('help', 'serve-it');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no command "serve-it"; the commands are proxy, stack, deploy, status, ctl/);
    // Before, `help` was taken for an app called "help".
    expect(unknown.stderr).not.toMatch(/Cannot find|ERR_APP/);
  });

  it('--version prints the package version', () => {
    expect(nodicorn('--version').stdout).toMatch(/^nodicorn \d+\.\d+\.\d+\n$/);
  });
});
