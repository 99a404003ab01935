export interface Command {
  /** Runs the subcommand with the arguments after its name; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

interface CommandEntry {
  /** One line for `nodicorn --help`. */
  readonly summary: string;
  /** Loaded only when used, so `nodicorn APP` starts no slower for the subcommands it does not run. */
  readonly load: () => Promise<Command>;
}

/** The subcommands; anything else on the command line is `nodicorn [OPTIONS] APP`, as `gunicorn [OPTIONS] APP`. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  proxy: { summary: 'run the reverse proxy (the nginx role): TLS, static files, forwarding, WebSocket', load: () => import('./proxy.js') },
  stack: { summary: 'run servers and the proxy together from a stack file: up, down, status, logs', load: () => import('./stack.js') },
  deploy: { summary: 'write the nginx and systemd files that run a stack on a server', load: () => import('./deploy.js') },
  status: { summary: "show running servers' workers: pid, state, requests, memory", load: () => import('./status.js') },
  ctl: { summary: 'tell a running server to reload, add or remove a worker, or stop', load: () => import('./ctl.js') },
};

/** The "Commands:" block of `nodicorn --help`. */
export function commandsHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}${entry.summary}`);
  return `Commands (nodicorn help COMMAND, or nodicorn COMMAND --help, for each):\n${lines.join('\n')}\n`;
}
