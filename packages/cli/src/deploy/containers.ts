import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Settings } from '@nodicorn/server';
import { stringify } from 'yaml';
import { DeployError, type DeployOptions } from './options.js';
import type { DeployPlan, PlannedServer } from './plan.js';
import { serverConfig, type DeployFile } from './systemd.js';

/** Where things are inside the image: the app, its config files, and the two ports each server opens. */
export const IMAGE = { appDir: '/app', configDir: '/etc/nodicorn', httpPort: 8000, healthPort: 9000, proxyPort: 8080 } as const;

export interface ContainerOptions {
  readonly image: string;
  readonly replicas: number;
  readonly nodeVersion: string;
  /** Seconds a pod keeps serving after it is told to stop, while its endpoints are removed. */
  readonly preStopSeconds: number;
  /** The directory the configs are written to, relative to the build context (the stack's directory). */
  readonly configsInContext: string;
}

export function containerOptions(plan: DeployPlan, options: DeployOptions, stackDir: string, out: string): ContainerOptions {
  const configsInContext = relative(stackDir, out);
  if (configsInContext.startsWith('..')) {
    throw new DeployError('ERR_DEPLOY_USAGE', `--out ${out} must be inside the stack's directory ${stackDir}: it is the image's build context, and the Dockerfile copies the configs from there. See nodicorn deploy --help.`);
  }
  return {
    image: options.image ?? `${plan.name}:latest`,
    replicas: options.replicas ?? 2,
    nodeVersion: options.nodeVersion ?? '24',
    preStopSeconds: options.preStopSeconds ?? 5,
    configsInContext: configsInContext || '.',
  };
}

/** The stack's own proxy: a one-server stack without one gets an nginx stand-in from planDeploy, which a cluster's ingress replaces. */
const hasProxy = (plan: DeployPlan): boolean => plan.proxy?.fromStack === true;

/**
 * A server's settings inside a container: TCP on every interface (a pod's network is its own),
 * the master's /healthz and /readyz beside it, logs to stdout/stderr for the engine to collect,
 * and no `workers`, so WEB_CONCURRENCY (set from the CPU limit) decides, as it does for Gunicorn.
 */
export function containerServerConfig(server: PlannedServer): Record<string, unknown> {
  const { workers: _workers, pidfile: _pidfile, controlSocket: _control, errorlog: _errorlog, accesslog, ...rest } = serverConfig(server) as Partial<Settings>;
  return {
    ...rest,
    bind: [`0.0.0.0:${IMAGE.httpPort}`],
    metricsBind: `0.0.0.0:${IMAGE.healthPort}`,
    errorlog: '-',
    ...(accesslog ? { accesslog: '-' } : {}),
    chdir: server.config.chdir ?? IMAGE.appDir,
  };
}

/** The proxy inside a container: each server reached through its Service name over TCP. */
export function containerProxyConfig(plan: DeployPlan): Record<string, unknown> | null {
  if (!plan.proxy || !hasProxy(plan)) return null;
  const upstreams = Object.fromEntries(plan.servers.map((s) => [s.name, [`${s.unit}:${IMAGE.httpPort}`]]));
  const { stateDir: _state, accessLog: _log, ...rest } = plan.proxy.config as Record<string, unknown>;
  const listen = plan.proxy.listeners.map((l) => `${l.scheme}://0.0.0.0:${l.scheme === 'https' ? 8443 : IMAGE.proxyPort}`);
  return { ...rest, listen, upstreams: { ...(rest.upstreams as object | undefined), ...upstreams } };
}

const configFile = (name: string) => `${name}.json`;
const defaultServer = (plan: DeployPlan) => plan.servers[0]!;
const maxGraceful = (plan: DeployPlan) => Math.max(30, ...plan.servers.map((s) => s.config.gracefulTimeout ?? 30));

function installCommand(stackDir: string): string[] {
  if (existsSync(join(stackDir, 'pnpm-lock.yaml'))) {
    return ['RUN npm install -g pnpm@10', 'COPY . .', 'RUN pnpm install --frozen-lockfile', 'RUN pnpm run --if-present build', '# Production dependencies only in the image that runs.', 'RUN rm -rf node_modules && pnpm install --frozen-lockfile --prod --offline'];
  }
  const install = existsSync(join(stackDir, 'package-lock.json')) ? 'npm ci' : 'npm install';
  return ['COPY . .', `RUN ${install}`, 'RUN npm run --if-present build', '# Production dependencies only in the image that runs.', 'RUN npm prune --omit=dev'];
}

/** A multi-stage Dockerfile for the whole stack: one image, each part chosen by its arguments. */
export function renderDockerfile(plan: DeployPlan, o: ContainerOptions, stackDir: string): string {
  const first = defaultServer(plan);
  const workers = first.config.workers ?? 2;
  const copies = [...plan.servers.map((s) => configFile(s.unit)), ...(hasProxy(plan) ? [configFile(`${plan.name}-proxy`)] : [])]
    .map((f) => `COPY ${join(o.configsInContext, f)} ${IMAGE.configDir}/${f}`);
  return `# syntax=docker/dockerfile:1
# Written by \`nodicorn deploy docker\` from ${plan.stackFile}.
# Build from the stack's directory (the build context):  docker build -f ${join(o.configsInContext, 'Dockerfile')} -t ${o.image} .
# Run a server:   docker run -p ${IMAGE.httpPort}:${IMAGE.httpPort} ${o.image}    (${first.name}; others: ${o.image} -c ${IMAGE.configDir}/NAME.json)
${hasProxy(plan) ? `# Run the proxy:  docker run -p ${IMAGE.proxyPort}:${IMAGE.proxyPort} ${o.image} proxy -c ${IMAGE.configDir}/${configFile(`${plan.name}-proxy`)}\n` : ''}ARG NODE_VERSION=${o.nodeVersion}

FROM node:\${NODE_VERSION}-slim AS build
WORKDIR ${IMAGE.appDir}
${installCommand(stackDir).join('\n')}

FROM node:\${NODE_VERSION}-slim
ENV NODE_ENV=production
# Workers per container; Kubernetes sets it from the CPU limit. The config leaves workers unset.
ENV WEB_CONCURRENCY=${workers}
WORKDIR ${IMAGE.appDir}
COPY --from=build --chown=node:node ${IMAGE.appDir} ${IMAGE.appDir}
${copies.join('\n')}
# Not root: the master binds port ${IMAGE.httpPort} (above 1024) itself.
USER node
EXPOSE ${IMAGE.httpPort} ${IMAGE.healthPort}
# TERM is the master's graceful stop (in-flight requests finish); exec form, so the master is PID 1's
# only child of note and receives it directly.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \\
  CMD ["node", "-e", "fetch('http://127.0.0.1:${IMAGE.healthPort}/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "node_modules/@nodicorn/cli/bin/nodicorn.js"]
CMD ["-c", "${IMAGE.configDir}/${configFile(first.unit)}"]
`;
}

export function renderDockerignore(plan: DeployPlan, stackDir: string, stateDir: string): string {
  const state = relative(stackDir, stateDir);
  return `# Written by \`nodicorn deploy docker\`: what the image's build context leaves out.
# Docker reads it from the context root (copy it there) or, with BuildKit, as Dockerfile.dockerignore
# beside the Dockerfile (written too).
node_modules
**/node_modules
.git
.nodicorn
*.log
dist-packages
${state && !state.startsWith('..') ? `${state}\n` : ''}`;
}

const labels = (plan: DeployPlan, component: string) => ({ 'app.kubernetes.io/name': plan.name, 'app.kubernetes.io/component': component, 'app.kubernetes.io/managed-by': 'nodicorn' });

function deployment(plan: DeployPlan, o: ContainerOptions, component: string, args: string[], port: number, probePort: { path: string; port: number } | null, graceful: number): object {
  const probe = probePort ? { httpGet: { path: probePort.path, port: probePort.port } } : { tcpSocket: { port } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${plan.name}-${component}`, labels: labels(plan, component) },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: labels(plan, component) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: labels(plan, component) },
        spec: {
          // The pod keeps serving for preStop while its endpoints are removed, then gets TERM and
          // drains for up to graceful_timeout; only after both does the kubelet send KILL.
          terminationGracePeriodSeconds: o.preStopSeconds + graceful + 5,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
          containers: [
            {
              name: component,
              image: o.image,
              args,
              ports: [{ name: 'http', containerPort: port }, ...(probePort && probePort.port !== port ? [{ name: 'health', containerPort: probePort.port }] : [])],
              env: [{ name: 'WEB_CONCURRENCY', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } }],
              resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '2', memory: '1Gi' } },
              startupProbe: { ...probe, periodSeconds: 2, failureThreshold: 30 },
              readinessProbe: { ...(probePort ? { httpGet: { path: '/readyz', port: probePort.port } } : probe), periodSeconds: 5, failureThreshold: 2 },
              livenessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 3 },
              lifecycle: { preStop: { exec: { command: ['sleep', String(o.preStopSeconds)] } } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

function service(plan: DeployPlan, component: string, name: string, port: number, type: 'ClusterIP' | 'LoadBalancer'): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: labels(plan, component) },
    spec: { type, selector: labels(plan, component), ports: [{ name: 'http', port, targetPort: 'http' }] },
  };
}

function disruptionBudget(plan: DeployPlan, component: string): object {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: `${plan.name}-${component}`, labels: labels(plan, component) },
    spec: { maxUnavailable: 1, selector: { matchLabels: labels(plan, component) } },
  };
}

/** The Kubernetes objects for the stack, in apply order. */
export function kubernetesObjects(plan: DeployPlan, o: ContainerOptions, serverNames: readonly string[]): object[] {
  const objects: object[] = [];
  for (const server of plan.servers) {
    const graceful = server.config.gracefulTimeout ?? 30;
    objects.push(
      deployment(plan, o, server.name, ['-c', `${IMAGE.configDir}/${configFile(server.unit)}`], IMAGE.httpPort, { path: '/healthz', port: IMAGE.healthPort }, graceful),
      // Named as the proxy's upstreams name them (`STACK-SERVER:8000`).
      service(plan, server.name, server.unit, IMAGE.httpPort, 'ClusterIP'),
      disruptionBudget(plan, server.name),
    );
  }
  if (hasProxy(plan)) {
    objects.push(
      deployment(plan, o, 'proxy', ['proxy', '-c', `${IMAGE.configDir}/${configFile(`${plan.name}-proxy`)}`], IMAGE.proxyPort, null, maxGraceful(plan)),
      service(plan, 'proxy', `${plan.name}-proxy`, IMAGE.proxyPort, 'LoadBalancer'),
      disruptionBudget(plan, 'proxy'),
    );
  } else if (plan.servers.length === 1) {
    // No proxy of the stack's own: the cluster's ingress controller stands in for nginx.
    const server = plan.servers[0]!;
    objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: plan.name, labels: labels(plan, server.name) },
      spec: {
        rules: (serverNames.length ? serverNames : [undefined]).map((host) => ({
          ...(host ? { host } : {}),
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: server.unit, port: { number: IMAGE.httpPort } } } }] },
        })),
      },
    });
  }
  return objects;
}

export function renderKubernetes(objects: readonly object[], plan: DeployPlan): string {
  const head = `# Written by \`nodicorn deploy kubernetes\` from ${plan.stackFile}.\n# kubectl apply -f ${plan.name}.yaml  (the image from \`nodicorn deploy docker\`)\n`;
  return head + objects.map((object) => `---\n${stringify(object)}`).join('');
}

/** The files for `deploy docker`: Dockerfile, ignore files, and each part's config. */
export function renderDocker(plan: DeployPlan, o: ContainerOptions, stackDir: string, stateDir: string): DeployFile[] {
  const ignore = renderDockerignore(plan, stackDir, stateDir);
  return [
    { name: 'Dockerfile', text: renderDockerfile(plan, o, stackDir) },
    { name: '.dockerignore', text: ignore },
    { name: 'Dockerfile.dockerignore', text: ignore },
    ...configFiles(plan),
  ];
}

export function configFiles(plan: DeployPlan): DeployFile[] {
  const files = plan.servers.map((s) => ({ name: configFile(s.unit), text: `${JSON.stringify(containerServerConfig(s), null, 2)}\n` }));
  const proxy = containerProxyConfig(plan);
  if (proxy) files.push({ name: configFile(`${plan.name}-proxy`), text: `${JSON.stringify(proxy, null, 2)}\n` });
  return files;
}
