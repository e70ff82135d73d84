import 'reflect-metadata';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { summarizeLatencies } from '../../loadtest/bench/stats.js';
import { createIngestWorkerApp } from '../../apps/ingest-worker/src/ingest-worker.app.js';
import { createApiKey } from '../../test/support/api-keys.js';
import { startTestGateway } from '../../test/support/gateway.js';
import { createTestEnvironment } from '../../test/support/test-environment.js';
import { readJsonLines } from '../eval/scifact-data.js';

/**
 * Does one tenant's bulk upload delay another tenant's documents (ADR 0010)? Runs the gateway and
 * one ingest worker (default settings) on a scratch database and Redis prefix, twice: without a per-tenant cap
 * and with INGEST_MAX_QUEUED_PER_TENANT = --cap. Each time, tenant "bulk" uploads --bulk SciFact
 * abstracts with 16 uploaders (waiting Retry-After when refused, as a polite client does) while
 * tenant "small" uploads one abstract every 500 ms; prints how long the small tenant's documents
 * took from upload to `indexed`, and the bulk load's own rate.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/tenant-fairness.js [--bulk 2000] [--cap 200]
 */
const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.SCIFACT_DIR ?? '../shared/eval/scifact' },
    bulk: { type: 'string', default: '2000' },
    cap: { type: 'string', default: '200' },
    small: { type: 'string', default: '20' },
  },
});
const out = (line: string): void => void process.stdout.write(`${line}\n`);

const abstracts = (
  await readJsonLines<{ title: string; text: string }>(path.join(args.data, 'corpus.jsonl'))
).map((row) => ({ title: row.title.slice(0, 300) || 'untitled', content: row.text || row.title }));

async function run(cap: number): Promise<void> {
  // A scratch database and Redis prefix; event-loop shedding off, as both tenants share one
  // gateway and shedding would measure the machine, not the queue.
  const env = await createTestEnvironment({ INGEST_MAX_QUEUED_PER_TENANT: String(cap) });
  const { config } = env;
  const bulkToken = await createApiKey(config, { tenant: 'bulk' });
  const smallToken = await createApiKey(config, { tenant: 'small' });
  const gateway = await startTestGateway(config);
  const worker = await createIngestWorkerApp(config);
  try {
    const upload = async (token: string, document: { title: string; content: string }): Promise<string> => {
      for (let refused = 0; ; refused++) {
        const response = await fetch(`${gateway.baseUrl}/documents`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(document),
        });
        if (response.status === 202) return ((await response.json()) as { id: string }).id;
        const retryAfter = Number(response.headers.get('retry-after'));
        if (!(response.status === 429 && retryAfter > 0))
          throw new Error(`upload answered ${response.status}: ${await response.text()}`);
        refusals++;
        await response.body?.cancel();
        await sleep(retryAfter * 1000);
      }
    };
    const indexed = async (token: string, id: string): Promise<void> => {
      for (;;) {
        const response = await fetch(`${gateway.baseUrl}/documents/${id}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const { status } = (await response.json()) as { status: string };
        if (status === 'indexed' || status === 'failed') return;
        await sleep(50);
      }
    };

    let refusals = 0;
    const bulkDocuments = abstracts.slice(0, Number(args.bulk));
    const started = performance.now();
    let next = 0;
    const bulkIds: string[] = [];
    const bulkLoad = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < bulkDocuments.length) bulkIds.push(await upload(bulkToken, bulkDocuments[next++]));
      }),
    );
    await sleep(1_000);
    const smallLatencies: number[] = [];
    const smallDocuments = abstracts.slice(-Number(args.small));
    await Promise.all(
      smallDocuments.map(async (document, index) => {
        await sleep(index * 500);
        const uploadedAt = performance.now();
        await indexed(smallToken, await upload(smallToken, document));
        smallLatencies.push(performance.now() - uploadedAt);
      }),
    );
    await bulkLoad;
    for (const id of bulkIds) await indexed(bulkToken, id);
    const seconds = (performance.now() - started) / 1000;
    const small = summarizeLatencies(smallLatencies);
    out(
      `cap ${cap === 0 ? 'off' : cap}: small tenant upload→indexed p50 ${(small.p50 / 1000).toFixed(1)} s, ` +
        `p95 ${(small.p95 / 1000).toFixed(1)} s, max ${(Math.max(...smallLatencies) / 1000).toFixed(1)} s ` +
        `(${smallLatencies.length} documents); bulk tenant ${bulkIds.length} documents indexed in ` +
        `${seconds.toFixed(1)} s (${(bulkIds.length / seconds).toFixed(0)}/s), told to wait ${refusals} times`,
    );
  } finally {
    await worker.close();
    await gateway.close();
    await env.cleanup();
  }
}

await run(0);
await run(Number(args.cap));
