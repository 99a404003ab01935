import { SETTINGS, parseArgs, settingsHelpFor, type Settings, type SettingKey } from '@nodicorn/server';

/**
 * The server settings `nodicorn proxy --workers N` takes for its master, by the server's own flags,
 * docs and checks (declared once, in the server's list): the pidfile, the name in process titles and
 * `nodicorn status`, the heartbeat timeout and the control socket.
 */
export const MASTER_KEYS = ['pidfile', 'procName', 'timeout', 'controlSocket'] as const satisfies readonly SettingKey[];

export type MasterValues = Partial<Pick<Settings, (typeof MASTER_KEYS)[number]>>;

const MASTER_FLAGS = new Set<string>(MASTER_KEYS.flatMap((key) => SETTINGS[key].flags));

/**
 * Splits a `nodicorn proxy` command line into the master's flags (parsed by the server's parser)
 * and everything else, which the proxy's parser reads. Every master flag takes a value.
 */
export function splitMasterArgs(argv: readonly string[]): { proxyArgv: string[]; master: MasterValues; given: string[] } {
  const proxyArgv: string[] = [];
  const masterArgv: string[] = [];
  const given: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const flag = arg.startsWith('--') ? arg.split('=')[0]! : arg.slice(0, 2);
    if (!MASTER_FLAGS.has(flag)) {
      proxyArgv.push(arg);
      continue;
    }
    given.push(flag);
    const inline = arg.startsWith('--') ? arg.includes('=') : arg.length > 2;
    masterArgv.push(arg);
    if (!inline && i + 1 < argv.length) masterArgv.push(argv[++i]!);
  }
  return { proxyArgv, master: parseArgs(masterArgv).values as MasterValues, given };
}

export function masterHelp(): string {
  return `Master (with --workers 2 or more; the server's settings):\n${settingsHelpFor(MASTER_KEYS)}`;
}
