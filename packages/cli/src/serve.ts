import { readFileSync } from 'node:fs';
import { commandsHelp } from './commands/index.js';
import { daemonize, isDaemonChild, notifyWhenReady } from './daemon.js';
import {
  EXIT,
  NodicornError,
  checkConfig,
  describeError,
  formatSettings,
  resolveServeSettings,
  settingsHelp,
  startMaster,
} from '@nodicorn/server';

const USAGE = `Usage: nodicorn [OPTIONS] APP
       nodicorn COMMAND [ARGS]
       nodicorn --version

Run APP under a pre-fork master, as gunicorn runs a WSGI app.
APP is MODULE[:NAME] or MODULE:FACTORY(literal args), resolved from --chdir:
  nodicorn app.js                      the module's default export
  nodicorn -w 4 dist/app.js:app        a named export
  nodicorn 'dist/app.js:createApp()'   a factory called once per worker

Signals to the master: TERM graceful stop, INT/QUIT fast stop, HUP reload workers,
TTIN/TTOU add/remove a worker, USR1 reopen log files.
(nginx differs: there QUIT is graceful and TERM is fast.)
`;

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `nodicorn [OPTIONS] APP`. Returns the process exit code. */
export async function serve(argv: readonly string[]): Promise<number> {
  const invocation = await resolveServeSettings(argv);
  const { settings, flags } = invocation;
  if (flags.has('--help') || flags.has('-h')) {
    process.stdout.write(`${USAGE}\n${commandsHelp()}\n${settingsHelp()}\n`);
    return EXIT.OK;
  }
  if (flags.has('--version') || flags.has('-v')) {
    process.stdout.write(`nodicorn ${version()}\n`);
    return EXIT.OK;
  }
  if (settings.printConfig) {
    process.stdout.write(formatSettings(settings));
    return EXIT.OK;
  }
  if (settings.checkConfig) {
    try {
      return await checkConfig(settings);
    } catch (err) {
      process.stderr.write(`nodicorn: error: ${describeError(err)}\n`);
      return EXIT.ERROR;
    }
  }
  if (settings.daemon && !isDaemonChild()) return daemonize(argv, process.argv[1]!, settings.errorlog);
  const master = await startMaster(invocation);
  if (isDaemonChild()) notifyWhenReady(master);
  return master.halted;
}

/** One clear line for an error a user must fix; a stack only for a bug of ours. */
export function reportFatal(err: unknown): number {
  if (err instanceof NodicornError) {
    process.stderr.write(`nodicorn: error: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`nodicorn: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return EXIT.ERROR;
}
