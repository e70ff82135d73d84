import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { startStandInQueryWorker, type StandInQueryWorker } from './support/stand-in-query-worker.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

const METRICS_TOKEN = 'metrics-secret-token';

describe('GET /metrics', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let standIn: StandInQueryWorker;
  let token: string;

  before(async () => {
    env = await createTestEnvironment({ METRICS_TOKEN });
    token = await createApiKey(env.config);
    standIn = await startStandInQueryWorker(env.config);
    gateway = await startTestGateway(env.config);
  });
  after(async () => {
    await gateway?.close();
    await standIn?.close();
    await env?.cleanup();
  });

  const scrape = async (): Promise<string> => {
    const response = await fetch(`${gateway.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return response.text();
  };
  const ask = (query: string): Promise<Response> =>
    fetch(`${gateway.baseUrl}/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
  /** The value of one series line, e.g. `query_cache_hits_total` or `x{a="b"}`. */
  const valueOf = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('answers 401 without the METRICS_TOKEN bearer token', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${token}`]) {
      const response = await fetch(`${gateway.baseUrl}/metrics`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      assert.equal(response.status, 401, `authorization ${authorization}`);
      const body = (await response.json()) as { statusCode: number; message: string };
      assert.equal(body.statusCode, 401);
      assert.match(body.message, /METRICS_TOKEN/);
    }
  });

  it('labels HTTP series with route templates, never raw paths', async () => {
    await fetch(`${gateway.baseUrl}/health/live`);
    assert.equal((await fetch(`${gateway.baseUrl}/no-such-route/12345`)).status, 404);
    assert.equal((await ask('metrics route question')).status, 200);
    const text = await scrape();
    assert.ok(
      (valueOf(text, 'http_requests_total{method="GET",route="/health/live",status="200",tenant="none"}') ??
        0) >= 1,
    );
    assert.ok(
      (valueOf(text, 'http_requests_total{method="POST",route="/query",status="200",tenant="default"}') ??
        0) >= 1,
    );
    assert.ok(
      (valueOf(text, 'http_requests_total{method="GET",route="unmatched",status="404",tenant="none"}') ??
        0) >= 1,
    );
    // Answers sent before any handler ran (the 401s above) are counted too.
    assert.ok(
      (valueOf(text, 'http_requests_total{method="GET",route="/metrics",status="401",tenant="none"}') ?? 0) >=
        3,
    );
    assert.ok(
      (valueOf(text, 'http_request_duration_seconds_count{method="POST",route="/query",status="200"}') ??
        0) >= 1,
    );
    assert.match(
      text,
      /^http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/query",status="200"\} \d+$/m,
    );
    assert.doesNotMatch(text, /no-such-route/);
    assert.ok((valueOf(text, 'active_connections') ?? 0) >= 1);
  });

  it('labels requests with a listed tenant by name and every unlisted tenant as "other"', async () => {
    const unlisted = await createApiKey(env.config, { tenant: 'acme' });
    const response = await fetch(`${gateway.baseUrl}/documents`, {
      headers: { authorization: `Bearer ${unlisted}` },
    });
    assert.equal(response.status, 200);
    const text = await scrape();
    assert.ok(
      (valueOf(text, 'http_requests_total{method="GET",route="/documents",status="200",tenant="other"}') ??
        0) >= 1,
    );
    // METRICS_TENANTS is `default` here: the tenant "acme" has no series of its own.
    assert.doesNotMatch(text, /tenant="acme"/);
  });

  it('counts query cache hits and misses, and exports queue depths while it holds the lease', async () => {
    const before = await scrape();
    const question = `metrics cache question ${Date.now()}`;
    assert.equal((await ask(question)).headers.get('x-cache'), 'MISS');
    assert.equal((await ask(question)).headers.get('x-cache'), 'HIT');
    const text = await scrape();
    assert.equal(
      valueOf(text, 'query_cache_misses_total'),
      (valueOf(before, 'query_cache_misses_total') ?? 0) + 1,
    );
    assert.equal(
      valueOf(text, 'query_cache_hits_total'),
      (valueOf(before, 'query_cache_hits_total') ?? 0) + 1,
    );
    // Jobs are observed by the workers that run them (ADR 0021), never by the gateway.
    assert.doesNotMatch(text, /job_duration_seconds/);
    // The only process of this deployment competing for the queue-depth lease: it holds it.
    assert.equal(valueOf(text, 'queue_depth_exporter'), 1);
    assert.equal(valueOf(text, 'queue_jobs{queue="ingest",state="waiting"}'), 0);
    assert.equal(typeof valueOf(text, 'queue_jobs{queue="query",state="active"}'), 'number');
  });
});
