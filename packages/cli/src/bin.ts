import { muteBrokenStdio } from '@nodicorn/server';
import { COMMANDS } from './commands/index.js';
import { reportFatal, serve } from './serve.js';

/** `nodicorn help [COMMAND]`: the command's own --help, or the server's. */
async function help(argv: readonly string[]): Promise<number> {
  const [name] = argv;
  if (name === undefined) return serve(['--help']);
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`nodicorn: error: no command "${name}"; the commands are ${Object.keys(COMMANDS).join(', ')} (nodicorn --help serves an APP).\n`);
    return 2;
  }
  return (await entry.load()).run(['--help']);
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'help') return help(rest);
  const entry = first !== undefined ? COMMANDS[first] : undefined;
  if (entry) return (await entry.load()).run(rest);
  return serve(argv);
}

// Every command outlives its terminal or a closed pipe (`nodicorn ... | head`): it keeps working and
// still stops on TERM.
muteBrokenStdio();
main(process.argv.slice(2)).then(
  // exit() rather than exitCode: a halted master must not linger on a handle an app left open.
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFatal(err)),
);
