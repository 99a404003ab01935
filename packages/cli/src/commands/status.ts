import { EXIT, NodicornError, formatStatus, printable, sendControl, type ServerStatus } from '@nodicorn/server';
import { parseTargetArgs, targetSockets } from './target.js';

const HELP = `Usage: nodicorn status [--name NAME | --control-socket PATH] [--json]

Show each running server's master and workers: pid, state, requests served, memory, heartbeat, age.
Without a target, every server of this user is shown.
`;

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseTargetArgs(argv, 'status');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  const sockets = targetSockets(values);
  if (sockets.length === 0) {
    process.stderr.write('nodicorn: no running nodicorn found (no control sockets); start one, or give --control-socket PATH.\n');
    return EXIT.ERROR;
  }
  const statuses: ServerStatus[] = [];
  let failed = 0;
  for (const socket of sockets) {
    try {
      const answer = await sendControl(socket, 'status');
      if (answer.ok && answer.status) statuses.push(answer.status);
      else throw new NodicornError('ERR_CONTROL', `${socket}: ${answer.ok ? 'no status in the answer' : printable(answer.error)}`);
    } catch (err) {
      failed++;
      // A stale socket of a server that died is noise when listing all; an explicit target is an error.
      if (sockets.length === 1) throw err;
    }
  }
  process.stdout.write(values.json ? JSON.stringify(statuses.length === 1 && sockets.length === 1 ? statuses[0] : statuses, null, 2) + '\n' : statuses.map(formatStatus).join('\n'));
  return statuses.length > 0 || failed === 0 ? EXIT.OK : EXIT.ERROR;
}
