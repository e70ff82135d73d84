import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { WorkerHttpService, type WorkerHealthReport } from '#libs/worker-http';
import { createQueryWorkerApp } from '../apps/query-worker/src/query-worker.app.js';
import { IngestProcessor } from '../apps/ingest-worker/src/ingest/ingest.processor.js';
import { corruptPdf, ENGLISH_PARAGRAPHS } from './support/fixtures.js';
import { IngestHarness } from './support/ingest-harness.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const METRICS_TOKEN = 'worker-metrics-token';

const valueOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

/** Each worker process's own port, on the real apps against real Postgres and Redis. */
describe('worker HTTP endpoints', () => {
  let env: TestEnvironment;
  let ingest: IngestHarness;
  let queryWorker: INestApplicationContext;
  let ingestUrl: string;
  let queryUrl: string;

  before(async () => {
    env = await createTestEnvironment({ METRICS_TOKEN });
    ingest = await IngestHarness.start(env.config);
    queryWorker = await createQueryWorkerApp(env.config);
    const urlOf = (app: INestApplicationContext): string =>
      `http://127.0.0.1:${app.get(WorkerHttpService, { strict: false }).port}`;
    ingestUrl = urlOf(ingest.app);
    queryUrl = urlOf(queryWorker);
  });
  after(async () => {
    await queryWorker?.close();
    await ingest?.close();
    await env?.cleanup();
  });

  const scrape = async (baseUrl: string): Promise<string> => {
    const response = await fetch(`${baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  it('answers liveness and health on each worker, with its queue, Postgres and Redis', async () => {
    for (const [baseUrl, queue] of [
      [ingestUrl, 'ingest'],
      [queryUrl, 'query'],
    ] as const) {
      const live = await fetch(`${baseUrl}/health/live`);
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'ok' });
      const health = await fetch(`${baseUrl}/health`);
      const report = (await health.json()) as WorkerHealthReport;
      assert.equal(health.status, 200, JSON.stringify(report));
      assert.equal(report.status, 'healthy');
      assert.equal(report.checks.database.ok, true);
      assert.equal(report.checks.redis.ok, true);
      assert.equal(report.checks.consumer.ok, true);
      assert.equal(report.checks.consumer.queue, queue);
      assert.ok(Math.abs(report.timestamp - Date.now() / 1000) < 10);
    }
  });

  it('answers 503 on /health while the worker is not consuming, and 200 again once it is', async () => {
    const worker = ingest.app.get(IngestProcessor, { strict: false }).worker;
    const healthStatus = async (): Promise<number> => (await fetch(`${ingestUrl}/health`)).status;
    await worker.pause();
    try {
      await waitFor(async () => ((await healthStatus()) === 503 ? true : undefined), {
        what: 'the paused worker to report unhealthy',
      });
      const report = (await (await fetch(`${ingestUrl}/health`)).json()) as WorkerHealthReport;
      assert.equal(report.checks.consumer.paused, true);
      assert.equal((await fetch(`${ingestUrl}/health/live`)).status, 200, 'still alive');
    } finally {
      await worker.resume();
    }
    await waitFor(async () => ((await healthStatus()) === 200 ? true : undefined), {
      what: 'the resumed worker to report healthy',
    });
  });

  it('protects /metrics with METRICS_TOKEN and counts the jobs this worker ran', async () => {
    for (const authorization of [undefined, 'Bearer wrong']) {
      const response = await fetch(`${ingestUrl}/metrics`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    }
    const indexed = await ingest.upload(ENGLISH_PARAGRAPHS.join('\n\n'), 'text/plain');
    const failed = await ingest.upload(corruptPdf(), 'application/pdf');
    await ingest.waitForStatus(indexed, 'indexed');
    await ingest.waitForStatus(failed, 'failed');
    const text = await waitFor(
      async () => {
        const current = await scrape(ingestUrl);
        // A document's status changes just before BullMQ records its job's end: wait for both.
        const settled =
          valueOf(current, 'worker_jobs_failed_total{queue="ingest",tenant="default"}') === 1 &&
          valueOf(current, 'worker_jobs_completed_total{queue="ingest",tenant="default"}') === 1;
        return settled ? current : undefined;
      },
      { what: 'both jobs to be counted' },
    );
    assert.equal(valueOf(text, 'ingest_job_duration_seconds_count'), 1);
    assert.equal(valueOf(text, 'worker_jobs_active{queue="ingest"}'), 0);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds /m);
    assert.match(text, /^process_cpu_seconds_total /m);
    // The query worker ran no ingest job: each worker counts only its own.
    const queryText = await scrape(queryUrl);
    assert.doesNotMatch(queryText, /^ingest_job_duration_seconds_count/m);
    assert.equal(valueOf(queryText, 'query_job_duration_seconds_count'), 0);
  });

  it('answers 404 for other paths and 405 for other methods, in the JSON error shape', async () => {
    const missing = await fetch(`${ingestUrl}/documents`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { statusCode: number }).statusCode, 404);
    const wrongMethod = await fetch(`${ingestUrl}/health`, { method: 'POST' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET, HEAD');
  });
});
