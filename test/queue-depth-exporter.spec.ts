import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Registry } from 'prom-client';
import { QueueName } from '#libs/contracts';
import { createLogger } from '#libs/observability';
import { bullPrefix, QueueDepthExporter } from '#libs/queues';
import { redisOptionsFromUrl } from '#libs/redis';
import { WorkerHttpService } from '#libs/worker-http';
import { createIngestWorkerApp } from '../apps/ingest-worker/src/ingest-worker.app.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const valueOf = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('queue depth is exported once per deployment', () => {
  let env: TestEnvironment;
  let queue: Queue;

  before(async () => {
    env = await createTestEnvironment();
    queue = new Queue(QueueName.Ingest, {
      connection: redisOptionsFromUrl(env.config.REDIS_URL),
      prefix: bullPrefix(env.config),
    });
    // A job that waits an hour: a depth the exporter must report, whoever it is.
    await queue.add('ingest-document', { documentId: 'depth-probe' }, { delay: 3_600_000 });
  });
  after(async () => {
    await queue?.close();
    await env?.cleanup();
  });

  it('by one of two worker processes, and by the other once the first stops', async () => {
    const workers: INestApplicationContext[] = [
      await createIngestWorkerApp(env.config),
      await createIngestWorkerApp(env.config),
    ];
    try {
      const scrape = async (worker: INestApplicationContext): Promise<string> => {
        const port = worker.get(WorkerHttpService, { strict: false }).port;
        return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      };
      const texts = await Promise.all(workers.map(scrape));
      const exporters = texts.map((text) => valueOf(text, 'queue_depth_exporter'));
      assert.deepEqual([...exporters].sort(), [0, 1], 'one holds the lease, the other stands by');
      const holder = exporters.indexOf(1);
      assert.equal(valueOf(texts[holder], 'queue_jobs{queue="ingest",state="delayed"}'), 1);
      assert.doesNotMatch(texts[1 - holder], /^queue_jobs\{/m, 'the other exports no depth at all');

      await workers[holder].close();
      const text = await waitFor(
        async () => {
          const current = await scrape(workers[1 - holder]);
          return valueOf(current, 'queue_depth_exporter') === 1 ? current : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the other worker to take the lease over' },
      );
      assert.equal(valueOf(text, 'queue_jobs{queue="ingest",state="delayed"}'), 1);
      workers.splice(holder, 1);
    } finally {
      for (const worker of workers) await worker.close();
    }
  });

  it('by another process after the holder crashes without releasing the lease', async () => {
    const timings = { intervalMs: 200, leaseMs: 1_500 };
    const child: ChildProcess = spawn(
      process.execPath,
      [fileURLToPath(new URL('./support/queue-depth-child.js', import.meta.url))],
      {
        env: {
          ...process.env,
          REDIS_URL: env.config.REDIS_URL,
          REDIS_KEY_PREFIX: env.config.REDIS_KEY_PREFIX,
          TEST_INTERVAL_MS: String(timings.intervalMs),
          TEST_LEASE_MS: String(timings.leaseMs),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const registry = new Registry();
    const survivor = new QueueDepthExporter(env.config, registry, createLogger('test', 'silent'), timings);
    try {
      const [said] = (await once(child.stdout!, 'data')) as [Buffer];
      assert.equal(said.toString().trim(), 'exporting', 'the child took the free lease');
      await survivor.start();
      assert.equal(survivor.exporting, false);
      assert.doesNotMatch(await registry.metrics(), /^queue_jobs\{/m);

      child.kill('SIGKILL');
      await once(child, 'exit');
      await waitFor(() => Promise.resolve(survivor.exporting ? true : undefined), {
        timeoutMs: 15_000,
        what: 'the survivor to take the expired lease over',
      });
      // The lease is taken a moment before the first counts are read and exported.
      await waitFor(
        async () =>
          valueOf(await registry.metrics(), 'queue_jobs{queue="ingest",state="delayed"}') === 1
            ? true
            : undefined,
        { what: 'the survivor to export the queue depth' },
      );
    } finally {
      child.kill('SIGKILL');
      await survivor.close();
    }
  });
});
