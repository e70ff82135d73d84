import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DEFAULT_TENANT, JobName, QueueName, RedisKey, SupportedMimeType } from '#libs/contracts';
import { ChunkIndexRepository } from '#libs/database';
import { redisOptionsFromUrl } from '#libs/redis';
import { bullPrefix } from '#libs/queues';
import { AppProcess } from './support/app-process.js';
import { IngestHarness } from './support/ingest-harness.js';
import { sparePort } from './support/spare-port.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

/** Longer than any of these tests: the worker that wrote a document never publishes it on its own. */
const NEVER_MS = '10000';
const DOCUMENTS = 6;

interface Row {
  id: string;
  status: string;
  attempts: number;
  written: boolean;
  chunks: number;
  postings: number;
}

/**
 * Publication is a durable step (docs/adr/0030-durable-publication.md): an ingest job completes
 * once its chunks are committed, the document waits in Postgres (`processing`, `written_at`) for
 * the corpus version bump, and whoever publishes it bumps the version before marking it
 * `indexed`. So a worker that dies between the two loses nothing: another publishes its documents.
 */
describe('durable publication', () => {
  let env: TestEnvironment;
  let sql: pg.Client;
  let redis: Redis;
  let queue: Queue;
  let worker: AppProcess | undefined;
  let harness: IngestHarness | undefined;

  before(async () => {
    env = await createTestEnvironment();
    sql = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await sql.connect();
    redis = new Redis(redisOptionsFromUrl(env.config.REDIS_URL));
    queue = new Queue(QueueName.Ingest, {
      connection: redisOptionsFromUrl(env.config.REDIS_URL),
      prefix: bullPrefix(env.config),
    });
  });
  after(async () => {
    await worker?.kill();
    await harness?.close();
    await queue?.close();
    await redis?.quit();
    await sql?.end();
    await env?.cleanup();
  });

  const version = async (): Promise<number> =>
    Number(
      (await redis.hget(`${env.config.REDIS_KEY_PREFIX}:${RedisKey.CorpusVersions}`, DEFAULT_TENANT)) ?? 0,
    );

  async function rows(ids: string[]): Promise<Row[]> {
    const { rows: found } = await sql.query<Row>(
      `SELECT d.id, d.status, d.attempts, d.written_at IS NOT NULL AS written,
              (SELECT count(*)::int FROM chunks c WHERE c.document_id = d.id) AS chunks,
              (SELECT count(*)::int FROM chunk_terms t JOIN chunks c ON c.id = t.chunk_id
               WHERE c.document_id = d.id) AS postings
       FROM documents d WHERE d.id = ANY($1::uuid[]) ORDER BY d.id`,
      [ids],
    );
    return found;
  }

  it('publishes, after a restart, what a worker killed between writing and publishing had written', async () => {
    const port = await sparePort();
    worker = await AppProcess.start(
      'ingest-worker',
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        DATABASE_URL: env.config.DATABASE_URL,
        DATABASE_POOL_SIZE: '4',
        REDIS_URL: env.config.REDIS_URL,
        REDIS_KEY_PREFIX: env.config.REDIS_KEY_PREFIX,
        WORKER_HTTP_PORT: `${port}`,
        INGEST_PUBLISH_INTERVAL_MS: NEVER_MS,
      },
      port,
    );
    const ids: string[] = [];
    for (let i = 0; i < DOCUMENTS; i++) {
      const { rows: inserted } = await sql.query<{ id: string }>(
        `WITH d AS (
           INSERT INTO documents (id, tenant, collection, title, status, size_bytes, mime_type, content_sha256)
           VALUES (gen_random_uuid(), $1, 'default', $2, 'queued', 1, $3, 'x') RETURNING id
         )
         INSERT INTO document_contents (document_id, body) SELECT id, $4 FROM d RETURNING document_id AS id`,
        [DEFAULT_TENANT, `Crash ${i}`, SupportedMimeType.PlainText, Buffer.from(`Ocelot number ${i} naps.`)],
      );
      const id = inserted[0]?.id;
      assert.ok(id !== undefined);
      ids.push(id);
    }
    await queue.addBulk(
      ids.map((id) => ({
        name: JobName.IngestDocument,
        data: { tenant: DEFAULT_TENANT, documentId: id },
        opts: { jobId: id },
      })),
    );
    // Every job completes once its chunks are committed, though nothing is published yet.
    await waitFor(
      async () =>
        (await Promise.all(ids.map((id) => queue.getJobState(id)))).every((state) => state === 'completed')
          ? true
          : undefined,
      { timeoutMs: 30_000, what: 'the jobs to complete' },
    );
    const versionBefore = await version();
    await worker.kill();
    worker = undefined;

    const written = await rows(ids);
    for (const row of written) {
      assert.equal(row.status, 'processing', 'not indexed before its version is bumped');
      assert.ok(row.written, 'waits for publication');
      assert.ok(row.chunks > 0 && row.postings > 0, 'its chunks are committed');
    }

    // A new worker publishes them on startup, without indexing them again.
    harness = await IngestHarness.start(env.config);
    for (const id of ids) await harness.waitForStatus(id, 'indexed');
    const published = await rows(ids);
    assert.deepEqual(
      published.map(({ id, attempts, written: waiting, chunks, postings }) => ({
        id,
        attempts,
        waiting,
        chunks,
        postings,
      })),
      written.map(({ id, chunks, postings }) => ({ id, attempts: 1, waiting: false, chunks, postings })),
    );
    assert.ok((await version()) > versionBefore, 'the corpus version was bumped');
  });

  it('bumps the version before the document says indexed, when the reconciler publishes it', async () => {
    assert.ok(harness !== undefined);
    const id = await harness.store('Capybaras bathe in the river.', SupportedMimeType.PlainText);
    // As if its worker had written the chunks and died: committed, waiting, no job in hand.
    await sql.query(`UPDATE documents SET status = 'processing' WHERE id = $1`, [id]);
    const content = 'Capybaras bathe in the river.';
    assert.ok(
      await harness.app
        .get(ChunkIndexRepository, { strict: false })
        .replaceChunks(DEFAULT_TENANT, id, [
          { content, language: 'english', startOffset: 0, endOffset: content.length },
        ]),
    );

    // Hold the row: the reconciler can bump the version but not yet mark the document indexed.
    const holder = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM documents WHERE id = $1 FOR UPDATE', [id]);
      const versionBefore = await version();
      const pass = harness.reconciler.reconcileOnce(0);
      await waitFor(async () => ((await version()) > versionBefore ? true : undefined), {
        what: 'the version bump',
      });
      assert.equal((await rows([id]))[0]?.status, 'processing', 'bumped first, indexed after');
      await holder.query('COMMIT');
      assert.deepEqual(await pass, { published: [id], requeued: [], failed: [] });
    } finally {
      await holder.end();
    }
    assert.equal((await rows([id]))[0]?.status, 'indexed');
    assert.deepEqual(await harness.statusPath(id), ['queued', 'processing', 'indexed']);
  });
});
