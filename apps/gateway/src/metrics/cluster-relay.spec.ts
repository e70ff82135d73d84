import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  MetricsRelayPrimary,
  MetricsRelayWorker,
  type RelayMessage,
  type RelayPeer,
} from './cluster-relay.js';

/** A worker's registry with the series every gateway process has. */
function workerRegistry(requests: number, connections: number): Registry {
  const registry = new Registry();
  new Counter({
    name: 'http_requests_total',
    help: 'h',
    labelNames: ['route'],
    registers: [registry],
  }).inc({ route: '/query' }, requests);
  new Gauge({ name: 'active_connections', help: 'h', registers: [registry] }).set(connections);
  return registry;
}

/**
 * Wires workers to a primary the way node:cluster IPC does: messages are delivered
 * asynchronously and a silent worker simply never answers.
 */
function cluster(registries: (Registry | 'silent')[], own: Registry, perWorkerTimeoutMs = 200) {
  const workers: MetricsRelayWorker[] = [];
  const peers: RelayPeer[] = registries.map((registry, index) => ({
    id: index + 1,
    send: (message: RelayMessage) => {
      if (registry !== 'silent') setImmediate(() => workers[index]?.handle(message));
    },
  }));
  const primary = new MetricsRelayPrimary(() => peers, own, perWorkerTimeoutMs);
  registries.forEach((registry, index) => {
    const peer = peers[index];
    workers[index] = new MetricsRelayWorker(
      (message) => setImmediate(() => primary.handle(peer, message)),
      registry === 'silent' ? new Registry() : registry,
    );
  });
  return { primary, workers };
}

const line = (text: string, series: string): string | undefined =>
  text.split('\n').find((candidate) => candidate.startsWith(`${series} `));

describe('metrics relay across node:cluster', () => {
  it("sums the workers' series and adds the primary's own, once", async () => {
    const own = new Registry();
    new Gauge({ name: 'queue_jobs', help: 'h', labelNames: ['queue'], registers: [own] }).set(
      { queue: 'query' },
      7,
    );
    const { workers } = cluster([workerRegistry(3, 2), workerRegistry(4, 5)], own);

    const text = await workers[0].request();
    assert.equal(line(text, 'http_requests_total{route="/query"}'), 'http_requests_total{route="/query"} 7');
    assert.equal(line(text, 'active_connections'), 'active_connections 7');
    assert.equal(line(text, 'queue_jobs{queue="query"}'), 'queue_jobs{queue="query"} 7');
  });

  it('leaves out a worker that does not answer instead of failing the scrape', async () => {
    const { workers } = cluster([workerRegistry(3, 1), 'silent', workerRegistry(4, 1)], new Registry());
    const startedAt = Date.now();
    const text = await workers[2].request();
    assert.equal(line(text, 'http_requests_total{route="/query"}'), 'http_requests_total{route="/query"} 7');
    assert.ok(Date.now() - startedAt < 2_000);
  });

  it('fails the request when the primary does not answer', async () => {
    const relay = new MetricsRelayWorker(() => undefined, new Registry(), 50);
    await assert.rejects(relay.request(), /did not answer within 50 ms/);
  });

  it('ignores messages that are not the relay’s', async () => {
    const { primary, workers } = cluster([workerRegistry(1, 1)], new Registry());
    primary.handle({ id: 1, send: () => assert.fail('nothing to answer') }, { type: 'rag:shutdown' });
    workers[0].handle('plain string');
    assert.match(await workers[0].request(), /http_requests_total/);
  });
});
