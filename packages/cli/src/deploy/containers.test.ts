import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadStack } from '../stack/stack-file.js';
import { IMAGE, configFiles, containerOptions, containerServerConfig, kubernetesObjects, renderDockerfile, renderKubernetes } from './containers.js';
import { DeployError, parseDeployArgs } from './options.js';
import { planDeploy } from './plan.js';

const dir = mkdtempSync(join(tmpdir(), 'ndc-k-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'public'));

const SHOP = {
  name: 'shop',
  servers: {
    web: { app: 'src/app.mjs:app', workers: 3, gracefulTimeout: 20, accesslog: 'logs/web.access.log' },
    api: { app: 'src/api.mjs:app' },
  },
  proxy: { listen: ['http://0.0.0.0:80'], routes: [{ prefix: '/api', upstream: 'api' }, { prefix: '/', upstream: 'web' }], static: ['/assets=public'] },
};

async function planOf(spec: object, target: 'docker' | 'kubernetes', extra: string[] = []) {
  const file = join(dir, `s${Math.random().toString(36).slice(2, 8)}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const stack = await loadStack(file);
  const options = parseDeployArgs([target, '--stack', file, '--out', join(dir, 'deploy'), ...extra]);
  const plan = planDeploy(stack, { ...options, prefix: IMAGE.appDir });
  return { stack, plan, o: containerOptions(plan, options, stack.baseDir, join(dir, 'deploy')), options };
}

/** Each object checked against the Kubernetes OpenAPI schema (kubernetes-models, offline). */
function validate(object: { kind?: string }): void {
  const model = { Deployment, Service, PodDisruptionBudget, Ingress }[object.kind as 'Deployment'];
  expect(model, object.kind).toBeDefined();
  new model(object as never).validate();
}

describe('deploy kubernetes', () => {
  it('renders schema-valid objects: per server a Deployment, Service and PodDisruptionBudget, and the proxy', async () => {
    const { plan, o } = await planOf(SHOP, 'kubernetes', ['--replicas', '3', '--pre-stop', '7']);
    const text = renderKubernetes(kubernetesObjects(plan, o, []), plan);
    const objects = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(objects.map((k) => `${k.kind}/${k.metadata.name}`)).toEqual([
      'Deployment/shop-web', 'Service/shop-web', 'PodDisruptionBudget/shop-web',
      'Deployment/shop-api', 'Service/shop-api', 'PodDisruptionBudget/shop-api',
      'Deployment/shop-proxy', 'Service/shop-proxy', 'PodDisruptionBudget/shop-proxy',
    ]);
    for (const object of objects) validate(object);
    const web = objects[0] as unknown as Deployment;
    const pod = web.spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(web.spec!.replicas).toBe(3);
    // preStop (7 s) while endpoints go, then TERM and graceful_timeout (20 s), then a margin.
    expect(pod.terminationGracePeriodSeconds).toBe(7 + 20 + 5);
    expect(container.lifecycle!.preStop!.exec!.command).toEqual(['sleep', '7']);
    expect(container.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: IMAGE.healthPort });
    expect(container.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: IMAGE.healthPort });
    expect(container.env).toContainEqual({ name: 'WEB_CONCURRENCY', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } });
    expect(container.args).toEqual(['-c', '/etc/nodicorn/shop-web.json']);
    expect(pod.securityContext!.runAsNonRoot).toBe(true);
  });

  it('a one-server stack without a proxy gets an Ingress on its Service instead', async () => {
    const { plan, o } = await planOf({ name: 'solo', servers: { web: { app: 'app.mjs:app' } } }, 'kubernetes', ['--server-name', 'solo.example']);
    const objects = kubernetesObjects(plan, o, ['solo.example']) as { kind: string; spec: { rules?: unknown[] } }[];
    for (const object of objects) validate(object);
    const ingress = objects.find((k) => k.kind === 'Ingress')!;
    expect(ingress.spec.rules).toEqual([{ host: 'solo.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'solo-web', port: { number: IMAGE.httpPort } } } }] } }]);
  });
});

describe('deploy docker', () => {
  it('a multi-stage, non-root Dockerfile whose exec-form command lets TERM reach the master', async () => {
    const { plan, o, stack } = await planOf(SHOP, 'docker');
    const text = renderDockerfile(plan, o, stack.baseDir);
    expect(text).toMatch(/^FROM node:\$\{NODE_VERSION\}-slim AS build$/m);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(text).toMatch(/^ENV WEB_CONCURRENCY=3$/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "node_modules\/@nodicorn\/cli\/bin\/nodicorn\.js"\]$/m);
    expect(text).toMatch(/^CMD \["-c", "\/etc\/nodicorn\/shop-web\.json"\]$/m);
    expect(text).toMatch(/HEALTHCHECK .*\n\s+CMD \["node", "-e", "fetch\('http:\/\/127\.0\.0\.1:9000\/readyz'\)/);
    expect(text).toMatch(/^COPY deploy\/shop-proxy\.json \/etc\/nodicorn\/shop-proxy\.json$/m);
    expect(text).toMatch(/^RUN npm prune --omit=dev$/m); // no pnpm-lock.yaml in this stack's directory
  });

  it("each part's config binds every interface, serves /readyz, logs to stdout and leaves workers to WEB_CONCURRENCY", async () => {
    const { plan } = await planOf(SHOP, 'docker');
    const web = containerServerConfig(plan.servers[0]!);
    expect(web).toMatchObject({ bind: ['0.0.0.0:8000'], metricsBind: '0.0.0.0:9000', errorlog: '-', accesslog: '-', chdir: '/app' });
    expect(web).not.toHaveProperty('workers');
    const proxy = JSON.parse(configFiles(plan).find((f) => f.name === 'shop-proxy.json')!.text) as { upstreams: Record<string, string[]>; listen: string[] };
    expect(proxy.upstreams).toMatchObject({ web: ['shop-web:8000'], api: ['shop-api:8000'] });
    expect(proxy.listen).toEqual(['http://0.0.0.0:8080']);
  });

  it('refuses an --out outside the build context, and bad flag values, in one line', async () => {
    const { plan, stack, options } = await planOf(SHOP, 'docker');
    expect(() => containerOptions(plan, options, stack.baseDir, '/elsewhere')).toThrow(/--out \/elsewhere must be inside the stack's directory/);
    expect(() => parseDeployArgs(['kubernetes', '--stack', 'a', '--out', 'o', '--replicas', '0'])).toThrow(DeployError);
    expect(() => parseDeployArgs(['docker', '--stack', 'a', '--out', 'o', '--image', 'Bad Image'])).toThrow(/--image "Bad Image" is not an image reference/);
  });
});

