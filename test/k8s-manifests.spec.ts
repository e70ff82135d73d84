import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { configSchema, loadConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { bullPrefix } from '#libs/queues';
import { K8S_DIR, overlayNames, readEnvFile, renderOverlay, type K8sObject } from './support/kustomize.js';

/** The kinds the manifests may use, each with the schema it is validated against. */
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/** The app each Deployment runs, by the entry point in its command. */
const APP_ENTRY_POINTS = {
  gateway: 'dist/apps/gateway/src/main.js',
  'ingest-worker': 'dist/apps/ingest-worker/src/main.js',
  'query-worker': 'dist/apps/query-worker/src/main.js',
  migrate: 'dist/apps/cli/src/migrate.js',
} as const;

const WORKER_QUEUES = { 'ingest-worker': QueueName.Ingest, 'query-worker': QueueName.Query } as const;

interface Rendering {
  objects: K8sObject[];
  byKind<T>(kind: string): (T & K8sObject)[];
  one<T>(kind: string, name: string): T & K8sObject;
  config: Record<string, string>;
  /** The keys of the Secret the apps read: rendered by the overlay, or the documented example. */
  secret: { name: string; keys: Record<string, string> };
}

function render(overlay: string): Rendering {
  const objects = renderOverlay(overlay);
  const byKind = <T>(kind: string) => objects.filter((object) => object.kind === kind) as (T & K8sObject)[];
  const one = <T>(kind: string, name: string) => {
    const found = byKind<T>(kind).filter((object) => object.metadata.name.startsWith(name));
    assert.equal(found.length, 1, `${overlay}: expected one ${kind} named ${name}*`);
    return found[0];
  };
  const configMap = one<{ data: Record<string, string> }>('ConfigMap', 'rag-gateway-config');
  const secretName = appContainers(byKind<IDeployment>('Deployment'))[0]?.container.envFrom?.find(
    (source) => source.secretRef,
  )?.secretRef?.name;
  assert.ok(secretName, `${overlay}: the apps read no Secret`);
  const rendered = byKind<{ data?: Record<string, string> }>('Secret').find(
    (secret) => secret.metadata.name === secretName,
  );
  const keys = rendered
    ? Object.fromEntries(
        Object.entries(rendered.data ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, 'base64').toString(),
        ]),
      )
    : readEnvFile('base/secrets.example.env');
  return { objects, byKind, one, config: configMap.data, secret: { name: secretName, keys } };
}

/** The containers of the rag-gateway apps (not the development overlay's Postgres and Redis). */
function appContainers(deployments: IDeployment[]): { deployment: IDeployment; container: IContainer }[] {
  return deployments
    .filter((deployment) => deployment.metadata?.labels?.['app.kubernetes.io/part-of'] === 'rag-gateway')
    .filter(
      (deployment) =>
        !['postgres', 'redis'].includes(deployment.metadata?.labels?.['app.kubernetes.io/name'] ?? ''),
    )
    .flatMap((deployment) =>
      (deployment.spec?.template.spec?.containers ?? []).map((container) => ({ deployment, container })),
    );
}

function appOf(container: IContainer): keyof typeof APP_ENTRY_POINTS {
  const entry = Object.entries(APP_ENTRY_POINTS).find(([, file]) => container.command?.includes(file));
  assert.ok(entry, `container ${container.name} runs no known app: ${JSON.stringify(container.command)}`);
  return entry[0] as keyof typeof APP_ENTRY_POINTS;
}

const overlays = overlayNames();

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('has a production overlay', () => {
    assert.ok(overlays.includes('production'), `overlays: ${overlays.join(', ')}`);
  });

  for (const overlay of overlays) {
    describe(`overlay ${overlay}`, () => {
      const rendering = render(overlay);
      const deployments = rendering.byKind<IDeployment>('Deployment');
      const apps = appContainers(deployments);

      it('renders only known kinds, each valid against its Kubernetes or KEDA schema', () => {
        for (const object of rendering.objects) {
          const Model = MODELS[`${object.apiVersion}/${object.kind}`];
          assert.ok(Model, `${object.apiVersion} ${object.kind} has no schema here`);
          assert.doesNotThrow(
            () => new Model(object as never).validate(),
            `${object.kind} ${object.metadata.name} is not valid`,
          );
        }
      });

      it('runs every app from the image, with the ConfigMap and the Secret as its environment', () => {
        const jobContainers = rendering
          .byKind<{ spec: { template: { spec: { containers: IContainer[] } } } }>('Job')
          .flatMap((job) => job.spec.template.spec.containers);
        const all = [...apps.map(({ container }) => container), ...jobContainers];
        assert.deepEqual(
          [...new Set(all.map(appOf))].sort(),
          Object.keys(APP_ENTRY_POINTS).sort(),
          'one workload per app',
        );
        for (const container of all) {
          for (const file of container.command ?? []) {
            if (file.startsWith('dist/')) {
              const source = file.replace(/^dist\//, '').replace(/\.js$/, '.ts');
              assert.ok(existsSync(path.join(K8S_DIR, '../..', source)), `${file}: no ${source}`);
            }
          }
          const sources = container.envFrom ?? [];
          assert.ok(
            sources.some(
              (source) =>
                source.configMapRef?.name === rendering.one('ConfigMap', 'rag-gateway-config').metadata.name,
            ),
            `${container.name} does not read the ConfigMap`,
          );
          assert.ok(
            sources.some((source) => source.secretRef?.name === rendering.secret.name),
            `${container.name} does not read the Secret`,
          );
          assert.ok(
            container.resources?.requests?.cpu && container.resources.requests.memory,
            `${container.name} requests`,
          );
          assert.ok(
            container.resources?.limits?.cpu && container.resources.limits.memory,
            `${container.name} limits`,
          );
        }
      });

      it('sets every setting of the configuration schema, with values the apps accept', () => {
        const environment = { ...rendering.config, ...rendering.secret.keys };
        const perContainer = new Set(
          apps.flatMap(({ container }) => (container.env ?? []).map(({ name }) => name)),
        );
        const missing = Object.keys(configSchema.shape).filter(
          (name) => !(name in environment) && !perContainer.has(name),
        );
        assert.deepEqual(
          missing,
          [],
          'settings the manifests do not set: add each to deploy/k8s/base/config.env, or, if secret, to ' +
            "base/secrets.example.env and the development overlay's secretGenerator",
        );
        // Connection strings carry credentials: never in the ConfigMap, and never left to the
        // localhost defaults.
        for (const name of ['DATABASE_URL', 'REDIS_URL'] as const) {
          assert.ok(!(name in rendering.config), `${name} belongs in the Secret`);
          assert.ok(rendering.secret.keys[name], `${name} is not set`);
        }
        for (const { container } of apps) {
          const own = Object.fromEntries((container.env ?? []).map(({ name, value }) => [name, value ?? '']));
          assert.doesNotThrow(() => loadConfig({ ...environment, ...own }), `${container.name}: config`);
        }
      });

      it('probes the gateway on /health (readiness) and /health/live (liveness) and drains it on rollouts', () => {
        const [gateway] = apps.filter(({ container }) => appOf(container) === 'gateway');
        assert.ok(gateway);
        const { deployment, container } = gateway;
        const port = container.ports?.find((candidate) => candidate.name === 'http')?.containerPort;
        assert.equal(port, Number(rendering.config.PORT), 'the container port is the gateway PORT');
        assert.equal(container.readinessProbe?.httpGet?.path, '/health');
        assert.equal(container.livenessProbe?.httpGet?.path, '/health/live');
        for (const probe of [container.readinessProbe, container.livenessProbe]) {
          assert.ok([port, 'http'].includes(probe?.httpGet?.port as number | string));
        }
        const pause = Number(container.lifecycle?.preStop?.exec?.command?.at(-1));
        assert.ok(pause > 0, 'a preStop pause');
        const grace = deployment.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
        assert.ok(
          grace >= pause + 20,
          `grace period ${grace} s leaves the drain too little after a ${pause} s pause`,
        );
        assert.equal(deployment.spec?.strategy?.rollingUpdate?.maxUnavailable, 0);

        const labels = deployment.spec?.template.metadata?.labels ?? {};
        const selects = (selector: Record<string, string> | undefined) =>
          Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
        const hpa = rendering.one<{
          spec: { scaleTargetRef: { name: string }; metrics: { resource?: { name: string } }[] };
        }>('HorizontalPodAutoscaler', 'rag-gateway');
        assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata?.name);
        assert.ok(hpa.spec.metrics.some((metric) => metric.resource?.name === 'cpu'));
        const pdb = rendering.one<{ spec: { selector: { matchLabels: Record<string, string> } } }>(
          'PodDisruptionBudget',
          'rag-gateway',
        );
        assert.ok(selects(pdb.spec.selector.matchLabels), 'the PodDisruptionBudget covers the gateway pods');
        const service = rendering.one<{ spec: { selector: Record<string, string> } }>(
          'Service',
          'rag-gateway',
        );
        assert.ok(selects(service.spec.selector), 'the Service selects the gateway pods');
      });

      it('probes each worker on its own HTTP port (WORKER_HTTP_PORT)', () => {
        for (const { container } of apps.filter(({ container }) => appOf(container) in WORKER_QUEUES)) {
          const configured = container.env?.find(({ name }) => name === 'WORKER_HTTP_PORT')?.value;
          const port = container.ports?.find((candidate) => candidate.name === 'http')?.containerPort;
          assert.equal(port, Number(configured), `${container.name}: container port = WORKER_HTTP_PORT`);
          assert.equal(container.readinessProbe?.httpGet?.path, '/health');
          assert.equal(container.livenessProbe?.httpGet?.path, '/health/live');
        }
      });

      it('scales each worker with KEDA on the real BullMQ keys of its queue, under the configured prefix', () => {
        const config = loadConfig({ ...rendering.config, ...rendering.secret.keys });
        const scaled = rendering.byKind<{
          spec: {
            scaleTargetRef: { name: string };
            minReplicaCount?: number;
            triggers: {
              type: string;
              metadata: Record<string, string>;
              authenticationRef?: { name: string };
            }[];
          };
        }>('ScaledObject');
        assert.equal(scaled.length, Object.keys(WORKER_QUEUES).length);
        for (const scaledObject of scaled) {
          const target = apps.find(
            ({ deployment }) => deployment.metadata?.name === scaledObject.spec.scaleTargetRef.name,
          );
          assert.ok(target, `${scaledObject.metadata.name} scales no app Deployment`);
          const app = appOf(target.container);
          assert.ok(app in WORKER_QUEUES, `${scaledObject.metadata.name} scales ${app}`);
          const queue = WORKER_QUEUES[app as keyof typeof WORKER_QUEUES];
          assert.ok((scaledObject.spec.minReplicaCount ?? 0) >= 1, 'workers never scale to zero');
          assert.deepEqual(
            scaledObject.spec.triggers.map((trigger) => [trigger.type, trigger.metadata.listName]).sort(),
            [
              ['redis', `${bullPrefix(config)}:${queue}:active`],
              ['redis', `${bullPrefix(config)}:${queue}:wait`],
            ],
          );
          for (const trigger of scaledObject.spec.triggers) {
            assert.ok(Number(trigger.metadata.listLength) > 0);
            const authentication = rendering.one<{
              spec: { secretTargetRef: { name: string; key: string }[] };
            }>('TriggerAuthentication', trigger.authenticationRef?.name ?? '(none)');
            for (const reference of authentication.spec.secretTargetRef) {
              assert.equal(reference.name, rendering.secret.name, 'KEDA reads the apps’ Secret');
              assert.ok(reference.key in rendering.secret.keys, `the Secret has no ${reference.key}`);
            }
          }
        }
      });

      it('lets traffic from outside reach only the gateway, and only the apps reach Postgres and Redis', () => {
        const policies = rendering.byKind<{
          spec: {
            podSelector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
            policyTypes: string[];
            ingress?: {
              from?: {
                podSelector?: { matchLabels?: Record<string, string> };
                namespaceSelector?: unknown;
              }[];
              ports?: { port: number }[];
            }[];
          };
        }>('NetworkPolicy');
        const denyAll = policies.find(
          (policy) =>
            policy.spec.policyTypes.includes('Ingress') &&
            Object.keys(policy.spec.podSelector).length === 0 &&
            (policy.spec.ingress ?? []).length === 0,
        );
        assert.ok(denyAll, 'a default-deny ingress policy');
        const openToAll = policies.filter((policy) =>
          (policy.spec.ingress ?? []).some((rule) => rule.from === undefined || rule.from.length === 0),
        );
        assert.deepEqual(
          openToAll.map((policy) => policy.spec.podSelector.matchLabels),
          [{ 'app.kubernetes.io/component': 'gateway' }],
          'only the gateway accepts traffic from anywhere',
        );
        const datastores = policies.find((policy) =>
          JSON.stringify(policy.spec.podSelector).includes('postgres'),
        );
        assert.ok(datastores);
        const podSources = (datastores.spec.ingress ?? [])
          .flatMap((rule) => rule.from ?? [])
          .filter((from) => from.podSelector);
        assert.deepEqual(
          podSources.map((from) => from.podSelector?.matchLabels),
          [{ 'app.kubernetes.io/part-of': 'rag-gateway' }],
        );
      });
    });
  }
});
