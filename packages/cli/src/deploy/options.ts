import { parseArgs } from 'node:util';
import { isAbsolute } from 'node:path';

/** A deploy problem a user must fix: one line, a stable code, and the exit status (2 usage, 1 environment). */
export class DeployError extends Error {
  constructor(
    readonly code: 'ERR_DEPLOY_USAGE' | 'ERR_DEPLOY_STACK' | 'ERR_DEPLOY_WRITE',
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

/** Documented in docs/deployment.md; a test keeps the two in step. */
export const DEPLOY_ERROR_CODES = {
  ERR_DEPLOY_USAGE: 'A flag is unknown, missing its value, or has a value of the wrong form (exit 2).',
  ERR_DEPLOY_STACK: 'The stack file is missing, cannot be loaded, or does not have what the target needs (exit 2).',
  ERR_DEPLOY_WRITE: 'The output directory cannot be created or written (exit 1).',
} as const;

export const DEPLOY_TARGETS = ['nginx', 'systemd', 'docker', 'kubernetes'] as const;
export type DeployTarget = (typeof DEPLOY_TARGETS)[number];

/** The options both targets take, as a parseArgs schema (citty style: the type is inferred from it). */
export const DEPLOY_OPTIONS = {
  stack: { type: 'string' },
  out: { type: 'string', short: 'o' },
  'server-name': { type: 'string', multiple: true },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'run-dir': { type: 'string' },
  prefix: { type: 'string' },
  listen: { type: 'string', multiple: true },
  // systemd
  user: { type: 'string' },
  group: { type: 'string' },
  'socket-group': { type: 'string' },
  'socket-mode': { type: 'string' },
  node: { type: 'string' },
  nodicorn: { type: 'string' },
  'config-dir': { type: 'string' },
  // docker, kubernetes
  image: { type: 'string' },
  replicas: { type: 'string' },
  'node-version': { type: 'string' },
  'pre-stop': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface DeployOptions {
  readonly target: DeployTarget;
  readonly stack: string;
  readonly out: string;
  readonly serverNames: readonly string[];
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  /** Where the Unix sockets live on the target machine; default /run/<stack name>. */
  readonly runDir: string | null;
  /** Where the stack's directory is deployed on the target machine; default where it is now. */
  readonly prefix: string | null;
  /** Listener URLs overriding the stack proxy's `listen`. */
  readonly listen: readonly string[];
  readonly user: string | null;
  readonly group: string | null;
  readonly socketGroup: string | null;
  readonly socketMode: string;
  readonly node: string;
  readonly nodicorn: string | null;
  readonly configDir: string;
  /** docker/kubernetes: the image name, pods per server, Node major of the base image, preStop delay. */
  readonly image: string | null;
  readonly replicas: number | null;
  readonly nodeVersion: string | null;
  readonly preStopSeconds: number | null;
  readonly help: boolean;
}

const usage = (message: string) => new DeployError('ERR_DEPLOY_USAGE', `${message} See nodicorn deploy --help.`);

function absolute(flag: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!isAbsolute(value)) throw usage(`${flag} must be an absolute path on the target machine, got "${value}".`);
  return value.replace(/(.)\/+$/, '$1');
}

/** Parses `nodicorn deploy TARGET [OPTIONS]`; every problem is a DeployError (exit 2). */
export function parseDeployArgs(argv: readonly string[]): DeployOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: DEPLOY_OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage(`nodicorn deploy: ${(err as Error).message}.`);
  }
  const { values, positionals } = parsed;
  const help = values.help ?? false;
  const [target, ...extra] = positionals;
  if (help && target === undefined) return { ...EMPTY, help };
  if (target === undefined) throw usage(`nodicorn deploy: name a target, one of ${DEPLOY_TARGETS.join(', ')}.`);
  if (!(DEPLOY_TARGETS as readonly string[]).includes(target)) throw usage(`nodicorn deploy: unknown target "${target}"; expected one of ${DEPLOY_TARGETS.join(', ')}.`);
  if (extra.length > 0) throw usage(`nodicorn deploy ${target}: unexpected argument "${extra[0]}".`);
  if (help) return { ...EMPTY, target: target as DeployTarget, help };
  if (!values.stack) throw usage(`nodicorn deploy ${target}: --stack FILE is required (your nodicorn.stack.mjs).`);
  if (!values.out) throw usage(`nodicorn deploy ${target}: --out DIR is required (where the files are written).`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw usage('--tls-cert and --tls-key go together; give both.');
  for (const name of values['server-name'] ?? []) {
    if (!/^[a-zA-Z0-9*_.-]+$/.test(name)) throw usage(`--server-name "${name}" is not a host name.`);
  }
  const mode = values['socket-mode'] ?? '0660';
  if (!/^0?[0-7]{3}$/.test(mode)) throw usage(`--socket-mode must be an octal mode like 0660, got "${mode}".`);
  for (const [flag, value] of [['--user', values.user], ['--group', values.group], ['--socket-group', values['socket-group']]] as const) {
    if (value !== undefined && !/^[a-z_][a-z0-9_-]*\$?$|^\d+$/.test(value)) throw usage(`${flag} "${value}" is not a user or group name.`);
  }
  const count = (flag: string, value: string | undefined, min: number): number | null => {
    if (value === undefined) return null;
    if (!/^\d+$/.test(value) || Number(value) < min) throw usage(`${flag} must be a whole number of at least ${min}, got "${value}".`);
    return Number(value);
  };
  if (values.image !== undefined && !/^[a-z0-9][a-z0-9._/:@-]*$/.test(values.image)) throw usage(`--image "${values.image}" is not an image reference (registry/name:tag).`);
  if (values['node-version'] !== undefined && !/^\d+(\.\d+){0,2}$/.test(values['node-version'])) throw usage(`--node-version must be a Node version such as 24, got "${values['node-version']}".`);
  return {
    target: target as DeployTarget,
    stack: values.stack,
    out: values.out,
    serverNames: values['server-name'] ?? [],
    tlsCert: absolute('--tls-cert', values['tls-cert']),
    tlsKey: absolute('--tls-key', values['tls-key']),
    runDir: absolute('--run-dir', values['run-dir']),
    prefix: absolute('--prefix', values.prefix),
    listen: values.listen ?? [],
    user: values.user ?? null,
    group: values.group ?? null,
    socketGroup: values['socket-group'] ?? null,
    socketMode: mode.padStart(4, '0'),
    node: absolute('--node', values.node) ?? '/usr/bin/node',
    nodicorn: absolute('--nodicorn', values.nodicorn),
    configDir: absolute('--config-dir', values['config-dir']) ?? '/etc/nodicorn',
    image: values.image ?? null,
    replicas: count('--replicas', values.replicas, 1),
    nodeVersion: values['node-version'] ?? null,
    preStopSeconds: count('--pre-stop', values['pre-stop'], 0),
    help,
  };
}

const EMPTY: DeployOptions = {
  target: 'nginx',
  stack: '',
  out: '',
  serverNames: [],
  tlsCert: null,
  tlsKey: null,
  runDir: null,
  prefix: null,
  listen: [],
  user: null,
  group: null,
  socketGroup: null,
  socketMode: '0660',
  node: '/usr/bin/node',
  nodicorn: null,
  configDir: '/etc/nodicorn',
  image: null,
  replicas: null,
  nodeVersion: null,
  preStopSeconds: null,
  help: false,
};
