import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { QueueName } from '#libs/contracts';
import { bullPrefix } from '#libs/queues';
import { redisOptionsFromUrl } from '#libs/redis';
import { tenantLabeler } from '#libs/observability';
import { WorkerMetrics } from '#libs/worker-http';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

/** The value of one series line of a registry's text, e.g. `worker_jobs_failed_total{queue="ingest"}`. */
const valueOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

/**
 * WorkerMetrics on a real BullMQ worker and queue: each job is counted once, by outcome, by the
 * worker that ran it, under its tenant's label (`default` is listed in METRICS_TENANTS, `acme` is
 * not and counts as `other`).
 */
describe('worker job metrics', () => {
  let env: TestEnvironment;
  let queue: Queue;
  let worker: Worker;
  let metrics: WorkerMetrics;
  let release: () => void = () => undefined;

  before(async () => {
    env = await createTestEnvironment();
    const connection = { ...redisOptionsFromUrl(env.config.REDIS_URL), maxRetriesPerRequest: null };
    const prefix = bullPrefix(env.config);
    queue = new Queue(QueueName.Ingest, { connection, prefix });
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    worker = new Worker(
      QueueName.Ingest,
      async (job) => {
        const kind = (job.data as { kind: string }).kind;
        if (kind === 'hold') await held;
        if (kind === 'flaky' && job.attemptsMade === 0) throw new Error('transient');
        if (kind === 'broken') throw new UnrecoverableError('cannot be read');
        if (kind === 'failing') throw new Error('always fails');
        return { durationMs: 250 };
      },
      { connection, prefix, concurrency: 4 },
    );
    metrics = new WorkerMetrics(QueueName.Ingest, tenantLabeler(['default']));
    metrics.observe(worker);
  });
  after(async () => {
    release();
    await worker?.close();
    await queue?.close();
    await env?.cleanup();
  });

  const scrape = (): Promise<string> => metrics.registry.metrics();
  const label = '{queue="ingest"}';
  const listed = '{queue="ingest",tenant="default"}';
  const other = '{queue="ingest",tenant="other"}';

  it('counts completions, retried attempts and final failures apart, and active jobs while they run', async () => {
    await queue.add('ok', { kind: 'ok', tenant: 'default' });
    await queue.add('flaky', { kind: 'flaky', tenant: 'acme' }, { attempts: 2 });
    await queue.add('broken', { kind: 'broken', tenant: 'acme' }, { attempts: 3 });
    await queue.add('failing', { kind: 'failing', tenant: 'default' }, { attempts: 2 });
    await queue.add('hold', { kind: 'hold', tenant: 'default' });

    const text = await waitFor(
      async () => {
        const current = await scrape();
        const settled =
          valueOf(current, `worker_jobs_completed_total${listed}`) === 1 &&
          valueOf(current, `worker_jobs_completed_total${other}`) === 1 &&
          valueOf(current, `worker_jobs_failed_total${listed}`) === 1 &&
          valueOf(current, `worker_jobs_failed_total${other}`) === 1;
        return settled ? current : undefined;
      },
      { timeoutMs: 30_000, what: 'the four short jobs to settle' },
    );
    // flaky: one retried attempt then a completion; failing: one retried attempt then a failure;
    // broken: unrecoverable, failed at once with attempts left.
    assert.equal(valueOf(text, `worker_jobs_retried_total${listed}`), 1);
    assert.equal(valueOf(text, `worker_jobs_retried_total${other}`), 1);
    assert.doesNotMatch(text, /tenant="acme"/, 'an unlisted tenant has no series of its own');
    assert.equal(valueOf(text, `worker_jobs_active${label}`), 1, 'the held job is active');
    assert.equal(valueOf(text, 'ingest_job_duration_seconds_count'), 2);
    assert.equal(valueOf(text, 'ingest_job_duration_seconds_sum'), 0.5, 'durationMs of each result');
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);

    release();
    await waitFor(
      async () => (valueOf(await scrape(), `worker_jobs_completed_total${listed}`) === 2 ? true : undefined),
      { timeoutMs: 30_000, what: 'the held job to complete' },
    );
    assert.equal(valueOf(await scrape(), `worker_jobs_active${label}`), 0);
  });
});
