import { EXIT, NodicornError, UsageError, printable, sendControl } from '@nodicorn/server';
import { parseTargetArgs, targetSockets } from './target.js';

const ACTIONS = ['reload', 'ttin', 'ttou', 'stop'] as const;
type Action = (typeof ACTIONS)[number];

const HELP = `Usage: nodicorn ctl reload|ttin|ttou|stop [--name NAME | --control-socket PATH]

Tell a running master to reload (HUP), add a worker (TTIN), remove one (TTOU) or stop gracefully (TERM).
`;

export async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseTargetArgs(argv, 'ctl');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  const action = positionals[0] as Action | undefined;
  if (!action || !ACTIONS.includes(action) || positionals.length > 1) {
    throw new UsageError('ERR_UNKNOWN_OPTION', `nodicorn ctl: expected one of ${ACTIONS.join(', ')}, got ${positionals.length ? positionals.join(' ') : 'nothing'}.`);
  }
  const sockets = targetSockets(values);
  if (sockets.length !== 1) {
    throw new UsageError('ERR_UNKNOWN_OPTION', sockets.length === 0 ? 'nodicorn ctl: no running nodicorn found; give --control-socket PATH or --name NAME.' : `nodicorn ctl: ${sockets.length} servers are running; choose one with --name or --control-socket (${sockets.join(', ')}).`);
  }
  const answer = await sendControl(sockets[0]!, action);
  if (!answer.ok) throw new NodicornError('ERR_CONTROL', `nodicorn ctl ${action}: ${printable(answer.error)}`);
  process.stdout.write(`${action}: sent to ${sockets[0]}\n`);
  return EXIT.OK;
}
