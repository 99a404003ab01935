import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, watch } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT, NodicornError, UsageError, childExecArgv, formatStatus, sendControl } from '@nodicorn/server';
import { findStackFile, loadStack, type Stack } from '../stack/stack-file.js';
import { stackCommand } from '../stack/invocation.js';
import { alive, clearState, logPath, readState, rotateLog } from '../stack/state.js';
import { assertNotRunning, runStack } from '../stack/supervisor.js';

const BIN = fileURLToPath(new URL('../../bin/nodicorn.js', import.meta.url));

const HELP = `Usage: nodicorn stack up|down|status|logs [--file nodicorn.stack.mjs]

  up [-d]        start every server on its Unix socket, then the proxy; wait until all are ready;
                 Ctrl-C stops it gracefully. -d detaches (then: nodicorn stack down).
  down           stop a detached stack gracefully
  status         every part of a running stack, and each server's workers
  logs [-f]      the merged logs (-f follows)
`;

const OPTIONS = {
  file: { type: 'string' },
  detach: { type: 'boolean', short: 'd' },
  follow: { type: 'boolean', short: 'f' },
  supervise: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function stackFrom(file: string | undefined): Promise<Stack> {
  const path = file ?? findStackFile(process.cwd());
  if (!path) throw new UsageError('ERR_UNKNOWN_OPTION', 'nodicorn stack: no nodicorn.stack.{js,mjs,json} here; give --file PATH.');
  return loadStack(path);
}

/** `up -d`: start a supervisor in the background and return once it reports the stack ready. */
async function upDetached(stack: Stack): Promise<number> {
  assertNotRunning(stack);
  mkdirSync(stack.stateDir, { recursive: true, mode: 0o700 });
  rotateLog(stack.stateDir);
  const errors = openSync(logPath(stack.stateDir), 'a');
  const child = spawn(process.execPath, [...childExecArgv(), BIN, 'stack', 'up', '--supervise', '--file', stack.file], { detached: true, stdio: ['ignore', 'ignore', errors] });
  closeSync(errors);
  child.unref();
  let exitCode: number | null = null;
  child.once('exit', (code) => (exitCode = code ?? 1));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const state = readState(stack.stateDir);
    if (state && state.supervisorPid === child.pid) {
      process.stdout.write(`${state.banner}\n  Detached (supervisor pid ${child.pid}). Logs: ${stackCommand(stack, 'logs -f')}   Stop: ${stackCommand(stack, 'down')}\n`);
      return EXIT.OK;
    }
    if (exitCode !== null) {
      // The supervisor's own verdict ("server X failed to start: …") is the last thing it logged.
      const lines = existsSync(logPath(stack.stateDir)) ? readFileSync(logPath(stack.stateDir), 'utf8').trimEnd().split('\n') : [];
      const verdict = lines.findLastIndex((l) => l.startsWith('nodicorn stack:'));
      const report = verdict >= 0 ? lines.slice(verdict) : lines.slice(-12);
      process.stderr.write(`${report.join('\n')}\n`);
      return EXIT.ERROR;
    }
    await sleep(100); // polling the state file the supervisor writes once every part is ready
  }
  throw new NodicornError('ERR_BAD_SETTING', `nodicorn stack: not ready within 120 s; see ${logPath(stack.stateDir)}`);
}

async function down(stack: Stack): Promise<number> {
  const state = readState(stack.stateDir);
  if (!state) {
    process.stdout.write(`stack "${stack.name}" is not running\n`);
    return EXIT.OK;
  }
  // Normally the supervisor stops its parts. If it was killed outright, its parts are orphans the
  // state file still names: stop them directly, the proxy first, as the supervisor would.
  const targets = alive(state.supervisorPid)
    ? [state.supervisorPid]
    : [...state.parts].sort((a, b) => (a.kind === 'proxy' ? -1 : b.kind === 'proxy' ? 1 : 0)).map((p) => p.pid).filter(alive);
  if (targets.length === 0) {
    clearState(stack.stateDir);
    process.stdout.write(`stack "${stack.name}" is not running\n`);
    return EXIT.OK;
  }
  for (const pid of targets) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 90_000;
  while (targets.some(alive) && Date.now() < deadline) await sleep(100);
  if (targets.some(alive)) throw new NodicornError('ERR_BAD_SETTING', `stack "${stack.name}" (pids ${targets.filter(alive).join(', ')}) did not stop within 90 s`);
  clearState(stack.stateDir);
  process.stdout.write(`stack "${stack.name}" stopped\n`);
  return EXIT.OK;
}

async function status(stack: Stack): Promise<number> {
  const state = readState(stack.stateDir);
  if (!state || !alive(state.supervisorPid)) {
    process.stdout.write(`stack "${stack.name}" is not running\n`);
    return EXIT.ERROR;
  }
  process.stdout.write(`stack "${state.name}": supervisor ${state.supervisorPid}, up since ${state.startedAt}\n`);
  for (const part of state.parts) {
    process.stdout.write(`  ${part.kind} ${part.name}: pid ${part.pid} ${alive(part.pid) ? 'running' : 'GONE'}\n`);
    if (!part.controlSocket) continue;
    try {
      const answer = await sendControl(part.controlSocket, 'status');
      if (answer.ok && answer.status) process.stdout.write(`${formatStatus(answer.status).trimEnd().replace(/^/gm, '    ')}\n`);
    } catch (err) {
      process.stdout.write(`    (no status: ${(err as Error).message})\n`);
    }
  }
  return EXIT.OK;
}

async function logs(stack: Stack, follow: boolean): Promise<number> {
  const path = logPath(stack.stateDir);
  if (!existsSync(path)) {
    process.stdout.write(`no logs for stack "${stack.name}" yet\n`);
    return EXIT.ERROR;
  }
  let offset = 0;
  const flush = () => {
    const size = statSync(path).size;
    if (size < offset) offset = 0; // truncated by a new `up`
    if (size === offset) return;
    const fd = openSync(path, 'r');
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    closeSync(fd);
    offset = size;
    process.stdout.write(buffer);
  };
  flush();
  if (!follow) return EXIT.OK;
  await new Promise<void>((resolve) => {
    const watcher = watch(path, () => flush());
    process.once('SIGINT', () => {
      watcher.close();
      resolve();
    });
  });
  return EXIT.OK;
}

export async function run(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
  } catch (err) {
    throw new UsageError('ERR_UNKNOWN_OPTION', `nodicorn stack: ${(err as Error).message}. See nodicorn stack --help.`);
  }
  const { values, positionals } = parsed;
  const verb = positionals[0];
  if (values.help || !verb) {
    process.stdout.write(HELP);
    return values.help ? EXIT.OK : EXIT.USAGE;
  }
  if (!['up', 'down', 'status', 'logs'].includes(verb) || positionals.length > 1) {
    throw new UsageError('ERR_UNKNOWN_OPTION', `nodicorn stack: expected up, down, status or logs, got ${positionals.join(' ')}.`);
  }
  const stack = await stackFrom(values.file);
  switch (verb) {
    case 'up':
      if (values.detach) return upDetached(stack);
      if (!values.supervise) {
        // Never rotate the log of a stack that is still running and writing it.
        assertNotRunning(stack);
        mkdirSync(stack.stateDir, { recursive: true, mode: 0o700 });
        rotateLog(stack.stateDir);
      }
      return runStack(stack, {
        color: !values.supervise && process.stdout.isTTY === true,
        // Detached, the banner goes to the state file only; in the foreground it is printed too.
        onBanner: (banner) => (values.supervise ? undefined : process.stdout.write(`\n${banner}\n  Ctrl-C stops the stack gracefully.\n\n`)),
      });
    case 'down':
      return down(stack);
    case 'status':
      return status(stack);
    default:
      return logs(stack, values.follow === true);
  }
}
