import { reportFatal, serve } from './serve.js';

export interface Command {
  /** Runs the subcommand with the arguments after its name; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/**
 * Subcommands, loaded only when used so `nodicorn APP` starts no faster or slower for them. Anything
 * else is `nodicorn [OPTIONS] APP`, as `gunicorn [OPTIONS] APP`.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  proxy: () => import('./commands/proxy.js'),
  status: () => import('./commands/status.js'),
  ctl: () => import('./commands/ctl.js'),
  stack: () => import('./commands/stack.js'),
  deploy: () => import('./commands/deploy.js'),
};

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  const load = first !== undefined ? COMMANDS[first] : undefined;
  if (load) return (await load()).run(rest);
  return serve(argv);
}

main(process.argv.slice(2)).then(
  // exit() rather than exitCode: a halted master must not linger on a handle an app left open.
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFatal(err)),
);
