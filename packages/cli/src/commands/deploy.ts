import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { NodicornError } from '@nodicorn/server';
import { IMAGE, containerOptions, kubernetesObjects, renderDocker, renderKubernetes } from '../deploy/containers.js';
import { renderNginxConf, renderNginxSite } from '../deploy/nginx.js';
import { DeployError, parseDeployArgs, type DeployOptions } from '../deploy/options.js';
import { planDeploy } from '../deploy/plan.js';
import { renderSystemd, systemdOptions, type DeployFile } from '../deploy/systemd.js';
import { loadStack, type Stack } from '../stack/stack-file.js';

const HELP = `Usage: nodicorn deploy nginx|systemd|docker|kubernetes --stack FILE --out DIR [OPTIONS]

Write what runs the stack on a real server, derived from the stack file:
  nginx     nginx.conf (complete, for nginx -p PREFIX -c nginx.conf) and NAME.conf (for conf.d/):
            an upstream per server on its Unix socket, the proxy's routes and static mounts, TLS
  systemd   per server NAME-SERVER.socket + .service (socket activation) + .json (its settings),
            NAME-proxy.service when the stack has a proxy, NAME.target, INSTALL.md
  docker    Dockerfile (multi-stage, production dependencies, non-root, TERM to the master, a health
            check on /readyz, WEB_CONCURRENCY), .dockerignore, and each part's config; --out must be
            inside the stack's directory, which is the build context
  kubernetes NAME.yaml: per server a Deployment (startup/readiness/liveness probes on the master's
            /healthz and /readyz, a preStop delay, terminationGracePeriodSeconds past graceful_timeout,
            WEB_CONCURRENCY from the CPU limit), a Service and a PodDisruptionBudget; the proxy as its
            own Deployment and LoadBalancer Service, or an Ingress for a one-server stack

Options:
  --stack FILE            the stack file (nodicorn.stack.mjs)
  --out DIR               where to write (created if missing)
  --run-dir DIR           where the sockets live on the server (default /run/NAME)
  --prefix DIR            where the stack's directory is deployed (default: where it is now)
  --listen URL            nginx/proxy listener, http://HOST:PORT or https://HOST:PORT; repeatable
                          (default: the stack proxy's listen)
  --server-name NAME      host name (nginx server_name); repeatable
  --tls-cert PATH --tls-key PATH   certificate and key for https listeners
systemd only:
  --user USER --group GROUP        who runs the services (default: the stack name)
  --socket-group GROUP    group of the sockets, for nginx (default www-data)
  --socket-mode MODE      mode of the sockets (default 0660)
  --node PATH             node binary (default /usr/bin/node)
  --nodicorn PATH         nodicorn's bin/nodicorn.js (default PREFIX/node_modules/@nodicorn/cli/bin/nodicorn.js)
  --config-dir DIR        where the .json configs are installed (default /etc/nodicorn)
docker and kubernetes:
  --image NAME            the image (default NAME:latest)
  --replicas N            pods per server and for the proxy (default 2)
  --node-version N        the node:N-slim base image (default 24)
  --pre-stop SECONDS      how long a stopping pod keeps serving before TERM (default 5)
`;

function render(options: DeployOptions, plan: ReturnType<typeof planDeploy>, stack: Stack, out: string): DeployFile[] {
  if (options.target === 'docker' || options.target === 'kubernetes') {
    const o = containerOptions(plan, options, stack.baseDir, out);
    if (options.target === 'docker') return renderDocker(plan, o, stack.baseDir, stack.stateDir);
    return [{ name: `${plan.name}.yaml`, text: renderKubernetes(kubernetesObjects(plan, o, options.serverNames), plan) }];
  }
  if (options.target === 'nginx') {
    return [
      { name: 'nginx.conf', text: renderNginxConf(plan) },
      { name: `${plan.name}.conf`, text: renderNginxSite(plan) },
    ];
  }
  return renderSystemd(plan, systemdOptions(plan, options));
}

function writeAll(dir: string, files: readonly DeployFile[]): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    for (const f of files) writeFileSync(join(dir, f.name), f.text);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DeployError('ERR_DEPLOY_WRITE', `cannot write to --out ${dir}: ${e.code ?? e.message}${e.path && e.path !== dir ? ` (${e.path})` : ''}; choose a directory you can write.`, 1);
  }
}

/** `nodicorn deploy nginx|systemd|docker|kubernetes`. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    const options = parseDeployArgs(argv);
    if (options.help) {
      process.stdout.write(HELP);
      return 0;
    }
    let stack;
    try {
      stack = await loadStack(options.stack);
    } catch (err) {
      if (err instanceof NodicornError) throw new DeployError('ERR_DEPLOY_STACK', err.message);
      throw err;
    }
    const inContainer = options.target === 'docker' || options.target === 'kubernetes';
    // In an image the stack's directory is /app, whatever --prefix says.
    const plan = planDeploy(stack, inContainer ? { ...options, prefix: IMAGE.appDir } : options);
    const out = resolve(options.out);
    const files = render(options, plan, stack, out);
    writeAll(out, files);
    process.stdout.write(`${files.map((f) => `wrote ${join(out, f.name)}`).join('\n')}\n`);
    if (options.target === 'systemd') process.stdout.write(`next: read ${join(out, 'INSTALL.md')}\n`);
    else if (options.target === 'docker') process.stdout.write(`build: docker build -f ${join(relative(stack.baseDir, out) || '.', 'Dockerfile')} -t ${options.image ?? `${plan.name}:latest`} ${stack.baseDir}\n`);
    else if (options.target === 'kubernetes') process.stdout.write(`apply: kubectl apply -f ${join(out, `${plan.name}.yaml`)}  (the image from nodicorn deploy docker)\n`);
    else process.stdout.write(`check: nginx -t -p PREFIX -c ${join(out, 'nginx.conf')}  (PREFIX with logs/ and tmp/)\n`);
    return 0;
  } catch (err) {
    if (err instanceof DeployError) {
      process.stderr.write(`nodicorn deploy: error: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}
