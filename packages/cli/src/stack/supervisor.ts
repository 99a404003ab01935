import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodicornError, childExecArgv } from '@nodicorn/server';
import { resolveWorkers } from '../proxy/under-master.js';
import { StackPart } from './part.js';
import type { Stack } from './stack-file.js';
import { alive, clearState, logPath, readState, writeState } from './state.js';

const BIN = fileURLToPath(new URL('../../bin/nodicorn.js', import.meta.url));
const COLORS = [36, 35, 33, 32, 34, 31];

function proxyControlSocket(stack: Stack): string {
  return join(stack.stateDir, 'proxy.control.sock');
}

/** Where `stack status` asks a part for its workers: each server's control socket, and the proxy's master's. */
function partControl(stack: Stack, part: StackPart): { controlSocket?: string } {
  if (part.kind === 'server') return { controlSocket: stack.servers.find((s) => s.name === part.name)!.controlSocket };
  return part.command.includes('--control-socket') ? { controlSocket: proxyControlSocket(stack) } : {};
}

/** Refuses to start a stack whose state says it is running; clears state a crashed run left behind. */
export function assertNotRunning(stack: Stack): void {
  const state = readState(stack.stateDir);
  if (state && state.supervisorPid !== process.pid && alive(state.supervisorPid)) {
    throw new NodicornError('ERR_BAD_SETTING', `Stack "${stack.name}" is already running (pid ${state.supervisorPid}, started ${state.startedAt}). See nodicorn stack status, or stop it with nodicorn stack down --file ${stack.file}.`);
  }
  if (state) clearState(stack.stateDir);
}

function bannerFor(stack: Stack, parts: readonly StackPart[]): string {
  const proxy = parts.find((p) => p.kind === 'proxy');
  // A proxy under its master logs each socket it binds, so `localhost` may be two (127.0.0.1, ::1).
  const urls = proxy ? [...new Set(proxy.lines.flatMap((l) => /Listening at: (\S+)/.exec(l)?.[1]?.replace(/\/\/(127\.0\.0\.1|\[::1\])/, '//localhost') ?? []))] : [];
  const cert = proxy?.lines.map((l) => /self-signed development certificate (\S+)/.exec(l)?.[1]).find(Boolean);
  const lines = [`nodicorn stack "${stack.name}" is up`];
  for (const url of urls) lines.push(`  ${url}${url.startsWith('http:') && stack.proxy?.redirectHttps ? '   (redirects to https)' : ''}`);
  if (cert) lines.push(`  TLS: self-signed leaf certificate ${cert} (not a CA; localhost, 127.0.0.1, ::1 only)`, `       trust it: NODE_EXTRA_CA_CERTS=${cert}   or   curl --cacert ${cert} ...`);
  for (const server of stack.servers) {
    lines.push(`  ${server.name.padEnd(10)} ${String(server.config.app).padEnd(28)} ${String(server.config.workers ?? 1)} worker(s)   unix:${server.socket}`);
  }
  return lines.join('\n');
}

/**
 * Runs a stack in this process: every server on its Unix socket, then the proxy, each awaited until
 * ready; logs merged and prefixed; TERM or INT stops the proxy first, then the servers, gracefully.
 * A part that fails to start stops the others, and the error says which and why. Resolves with the
 * exit code.
 */
export async function runStack(stack: Stack, options: { color: boolean; onBanner: (banner: string) => void }): Promise<number> {
  mkdirSync(stack.stateDir, { recursive: true, mode: 0o700 });
  assertNotRunning(stack);
  const log = logPath(stack.stateDir);
  const width = Math.max(5, ...stack.servers.map((s) => s.name.length));
  const colors = new Map([...stack.servers.map((s) => s.name), 'proxy'].map((name, i) => [name, COLORS[i % COLORS.length]]));
  const write = (part: StackPart, line: string) => {
    const prefix = `${part.name.padEnd(width)} |`;
    appendFileSync(log, `${prefix} ${line}\n`);
    process.stdout.write(options.color ? `\x1b[${colors.get(part.name)}m${prefix}\x1b[0m ${line}\n` : `${prefix} ${line}\n`);
  };
  const env = { ...process.env, ...stack.env };
  const servers = stack.servers.map((server) => {
    const config = join(stack.stateDir, `${server.name}.config.json`);
    writeFileSync(config, JSON.stringify(server.config, null, 2) + '\n');
    return new StackPart(server.name, 'server', [process.execPath, ...childExecArgv(), BIN, '-c', config], { cwd: stack.baseDir, env, readyPattern: /\[INFO\] Ready: /, write });
  });
  const parts: StackPart[] = [...servers];
  if (stack.proxy) {
    const config = join(stack.stateDir, 'proxy.config.json');
    writeFileSync(config, JSON.stringify(stack.proxy, null, 2) + '\n');
    // Under its master (proxy.workers, default one per core) the proxy gets a name and a control
    // socket in the state dir, as each server does, so `stack status` shows its workers too.
    const master = resolveWorkers(Number(stack.proxy.workers ?? 0)) > 1 ? ['--name', `${stack.name}-proxy`, '--control-socket', proxyControlSocket(stack)] : [];
    parts.push(new StackPart('proxy', 'proxy', [process.execPath, ...childExecArgv(), BIN, 'proxy', '--config', config, ...master], { cwd: stack.baseDir, env, readyPattern: /Ready: nodicorn proxy/, write }));
  }

  let stopping = false;
  const stopAll = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\nstack: ${why}; stopping gracefully\n`);
    // The proxy first, so no new request reaches a server that is draining.
    const proxy = parts.find((p) => p.kind === 'proxy');
    proxy?.stop('SIGTERM');
    await proxy?.exited;
    for (const part of servers) part.stop('SIGTERM');
    await Promise.all(servers.map((p) => p.exited));
    clearState(stack.stateDir);
  };

  const signalled = new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve(`${signal} received`));
  });

  try {
    for (const part of servers) part.start();
    await Promise.race([Promise.all(servers.map((p) => p.ready)), signalled.then((why) => Promise.reject(new Error(why)))]);
    const proxy = parts.find((p) => p.kind === 'proxy');
    if (proxy) {
      proxy.start();
      await Promise.race([proxy.ready, signalled.then((why) => Promise.reject(new Error(why)))]);
    }
  } catch (err) {
    const failed = parts.find((p) => p.child && !p.isReady && p.child.exitCode !== null);
    await stopAll('start failed');
    if (failed) {
      process.stderr.write(`nodicorn stack: ${failed.kind} "${failed.name}" failed to start:\n${failed.why()}\n`);
      return 1;
    }
    process.stderr.write(`nodicorn stack: ${(err as Error).message}\n`);
    return (err as Error).message.endsWith('received') ? 0 : 1;
  }

  const banner = bannerFor(stack, parts);
  writeState(stack.stateDir, {
    name: stack.name,
    file: stack.file,
    supervisorPid: process.pid,
    startedAt: new Date().toISOString(),
    parts: parts.map((p) => ({ name: p.name, kind: p.kind, pid: p.pid!, ...partControl(stack, p) })),
    banner,
  });
  options.onBanner(banner);

  // Run until a signal, or until a part dies on its own (then the stack is broken: stop the rest).
  const partDied = Promise.race(parts.map((p) => p.exited.then((code) => `${p.kind} "${p.name}" exited (code ${code})`)));
  const why = await Promise.race([signalled, partDied]);
  await stopAll(why);
  return why.endsWith('received') ? 0 : 1;
}
