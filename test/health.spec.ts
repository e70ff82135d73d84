import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

interface HealthBody {
  status: string;
  checks: Record<string, { ok: boolean; [detail: string]: unknown }>;
  timestamp: number;
}

describe('GET /health', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;

  before(async () => {
    env = await createTestEnvironment();
    gateway = await startTestGateway(env.config);
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  const health = async (): Promise<{ status: number; body: HealthBody }> => {
    const response = await fetch(`${gateway.baseUrl}/health`);
    return { status: response.status, body: (await response.json()) as HealthBody };
  };

  it('answers 200 healthy with the database, redis, memory and queue checks, without an API key', async () => {
    const { status, body } = await health();
    assert.equal(status, 200);
    assert.equal(body.status, 'healthy');
    assert.deepEqual(Object.keys(body.checks).sort(), ['database', 'memory', 'queues', 'redis']);
    const { database, redis, memory, queues } = body.checks;
    assert.equal(database?.ok, true);
    assert.equal(typeof database?.latency_ms, 'number');
    assert.equal(redis?.ok, true);
    assert.equal(typeof redis?.latency_ms, 'number');
    assert.equal(memory?.ok, true);
    assert.ok((memory?.heap_used_bytes as number) > 0);
    assert.ok((memory?.rss_bytes as number) > 0);
    assert.equal(queues?.ok, true);
    assert.equal((queues?.ingest as Record<string, number>).waiting, 0);
    assert.equal(typeof (queues?.query as Record<string, number>).active, 'number');
    assert.ok(Number.isInteger(body.timestamp));
    assert.ok(Math.abs(body.timestamp - Date.now() / 1000) < 5);
  });

  it('refreshes the snapshot in the background', async () => {
    const first = (await health()).body.timestamp;
    const later = await waitFor(
      async () => {
        const { body } = await health();
        return body.timestamp > first ? body.timestamp : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 200, what: 'a newer health snapshot' },
    );
    assert.ok(later > first);
  });

  it('keeps GET /health/live free of dependencies and open', async () => {
    const response = await fetch(`${gateway.baseUrl}/health/live`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
  });
});
