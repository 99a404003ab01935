import { reportFatal, serve } from './serve.js';

/** The `nodicorn` command. Subcommands (proxy, stack, status, deploy) join here as they land. */
async function main(argv: readonly string[]): Promise<number> {
  return serve(argv);
}

main(process.argv.slice(2)).then(
  // exit() rather than exitCode: a halted master must not linger on a handle an app left open.
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFatal(err)),
);
