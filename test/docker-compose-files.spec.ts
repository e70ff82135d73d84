import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configSchema } from '#libs/config';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { MetricName } from '#libs/observability';

/**
 * What `npm run test:deploy` cannot run here: Grafana (not in Debian, so no local stand-in) and the
 * parts of docker/compose.yaml a user relies on without the test noticing. Checked by reading the
 * files as compose and Grafana read them.
 */

const DOCKER_DIR = path.resolve(import.meta.dirname, '../../docker');
const readText = (file: string) => readFileSync(path.join(DOCKER_DIR, file), 'utf8');
// merge: compose.yaml shares settings between services with YAML merge keys (<<: *anchor).
const readYaml = <T>(file: string) => parse(readText(file), { merge: true }) as T;

interface ComposeService {
  image?: string;
  profiles?: string[];
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

const compose = readYaml<ComposeFile>('compose.yaml');
const APP_SERVICES = ['migrate', 'gateway', 'ingest-worker', 'query-worker'];

/** The host directory (relative to docker/) mounted at `target` in a service, if any. */
function mountedAt(service: ComposeService, target: string): string | undefined {
  const mount = (service.volumes ?? []).map((volume) => volume.split(':')).find(([, to]) => to === target);
  return mount?.[0];
}

describe('docker/compose.yaml', () => {
  it('names only official images, apart from the one it builds', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      assert.ok(service.image, `${name} has an image`);
      if (APP_SERVICES.includes(name)) assert.match(service.image, /^rag-gateway:/);
      else
        assert.match(
          service.image,
          /^(postgres|redis|nginx|prom\/prometheus|grafana\/grafana):[\w.-]+$/,
          name,
        );
    }
  });

  it('passes the apps only settings the configuration schema knows', () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const name of APP_SERVICES) {
      const unknown = Object.keys(compose.services[name].environment ?? {}).filter(
        (variable) => variable !== 'NODE_ENV' && !known.has(variable),
      );
      assert.deepEqual(unknown, [], `${name}: not in libs/config/src/config.schema.ts`);
    }
  });

  it('keeps Grafana behind a profile, since no stand-in can run it here', () => {
    assert.deepEqual(compose.services.grafana.profiles, ['grafana']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (name !== 'grafana') assert.equal(service.profiles, undefined, `${name} starts by default`);
    }
  });
});

describe('Grafana provisioning (docker/grafana)', () => {
  const grafana = compose.services.grafana;
  const datasources = readYaml<{
    datasources: { uid: string; type: string; url: string; isDefault?: boolean }[];
  }>('grafana/provisioning/datasources/prometheus.yml').datasources;
  const providers = readYaml<{ providers: { type: string; options: { path: string } }[] }>(
    'grafana/provisioning/dashboards/rag-gateway.yml',
  ).providers;

  it('is mounted where Grafana reads it, and its dashboards where the provider looks', () => {
    assert.equal(mountedAt(grafana, '/etc/grafana/provisioning'), './grafana/provisioning');
    for (const provider of providers) {
      assert.equal(provider.type, 'file');
      assert.equal(mountedAt(grafana, provider.options.path), './grafana/dashboards', provider.options.path);
    }
  });

  it("points the data source at compose's Prometheus service and port", () => {
    assert.equal(datasources.length, 1);
    const [source] = datasources;
    assert.equal(source.type, 'prometheus');
    const url = new URL(source.url);
    assert.ok(url.hostname in compose.services, `${url.hostname} is a compose service`);
    assert.equal(compose.services[url.hostname].image?.split(':')[0], 'prom/prometheus');
    // Prometheus listens on 9090 inside the network; the published port is only for the host.
    assert.equal(url.port, '9090');
  });

  describe('the rag-gateway dashboard', () => {
    interface Panel {
      id: number;
      title: string;
      type: string;
      datasource?: { type: string; uid: string };
      targets?: { expr: string; refId: string }[];
      panels?: Panel[];
    }
    const dashboard = JSON.parse(readText('grafana/dashboards/rag-gateway.json')) as {
      uid: string;
      title: string;
      panels: Panel[];
    };
    const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
    const graphs = panels.filter((panel) => panel.type !== 'row');

    it('has a stable uid and unique panel ids', () => {
      assert.match(dashboard.uid, /^[\w-]{1,40}$/);
      assert.equal(new Set(panels.map((panel) => panel.id)).size, panels.length);
    });

    it('queries the provisioned data source in every panel', () => {
      assert.ok(graphs.length > 0);
      for (const panel of graphs) {
        assert.deepEqual(panel.datasource, { type: 'prometheus', uid: datasources[0].uid }, panel.title);
        assert.ok((panel.targets ?? []).length > 0, `${panel.title} has queries`);
      }
    });

    it('plots only series the processes export (libs/observability MetricName, prom-client defaults)', () => {
      // Besides our own series: prom-client's default process and Node.js series (every app
      // collects them) and the `up` series Prometheus records for each scrape target.
      const exported = new Set<string>([...Object.values(MetricName), ...defaultSeries(), 'up']);
      const used = new Set<string>();
      for (const panel of graphs) {
        for (const { expr } of panel.targets ?? []) {
          // Series names are the identifiers followed by a selector, a range or a closing parenthesis;
          // functions are followed by "(", labels sit inside braces or after by/without.
          const withoutLabels = expr.replace(/\{[^}]*\}/g, '{}').replace(/\b(by|without)\s*\([^)]*\)/g, '');
          for (const [, name] of withoutLabels.matchAll(/([a-zA-Z_:][\w:]*)\s*(?=[{[)])/g)) {
            used.add(name.replace(/_(bucket|sum|count)$/, ''));
          }
        }
      }
      assert.ok(used.size > 0);
      const unknown = [...used].filter((name) => !exported.has(name));
      assert.deepEqual(unknown, [], 'series the dashboard plots that no process exports');
    });
  });
});

/** The names prom-client's collectDefaultMetrics registers. */
function defaultSeries(): string[] {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry.getMetricsAsArray().map((metric) => metric.name);
}
