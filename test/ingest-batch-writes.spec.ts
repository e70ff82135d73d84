import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { DEFAULT_TENANT } from '#libs/contracts';
import { ChunkIndexRepository, createDataSource, DocumentsRepository, type ChunkInput } from '#libs/database';
import { IngestBatches } from '../apps/ingest-worker/src/ingest/ingest-batches.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

const chunk = (content: string): ChunkInput => ({
  content,
  language: 'english',
  startOffset: 0,
  endOffset: content.length,
});
const TWO_CHUNKS = [chunk('Zebrafinches sing at dawn.'), chunk('Quetzals nest in cloud forests.')];

/**
 * The ingest worker's grouped writes (docs/adr/0027-bulk-ingest-group-commit.md): many
 * documents' chunks and postings in one transaction, all or nothing, with a fallback that lets
 * one bad document fail alone. On real Postgres; a trigger stands in for a document whose insert fails.
 */
describe('grouped chunk writes', () => {
  let env: TestEnvironment;
  let dataSource: DataSource;
  let index: ChunkIndexRepository;
  let batches: IngestBatches;

  before(async () => {
    env = await createTestEnvironment({ INGEST_BATCH_SIZE: '16' });
    dataSource = createDataSource({ url: env.config.DATABASE_URL, poolSize: 4, applicationName: 'test' });
    await dataSource.initialize();
    index = new ChunkIndexRepository(dataSource);
    batches = new IngestBatches(env.config, new DocumentsRepository(dataSource), index);
    await dataSource.query(`
      CREATE TABLE test_failing_documents (document_id uuid PRIMARY KEY);
      CREATE FUNCTION test_fail_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM test_failing_documents WHERE document_id = NEW.document_id) THEN
          RAISE EXCEPTION 'test: chunk insert refused for %', NEW.document_id;
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_fail_chunks BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION test_fail_chunks();`);
  });
  beforeEach(() => dataSource.query(`DELETE FROM test_failing_documents`));
  after(async () => {
    await dataSource?.destroy();
    await env?.cleanup();
  });

  async function addDocument(title = 'Birds'): Promise<string> {
    const id = randomUUID();
    await dataSource.query(
      `INSERT INTO documents (id, tenant, collection, title, status, size_bytes, mime_type, content_sha256)
       VALUES ($1, $2, 'default', $3, 'queued', 4, 'text/plain', 'x')`,
      [id, DEFAULT_TENANT, title],
    );
    await dataSource.query(`INSERT INTO document_contents (document_id, body) VALUES ($1, $2)`, [
      id,
      Buffer.from('body'),
    ]);
    return id;
  }

  /** Chunks and postings per document, and the corpus statistics the triggers keep. */
  async function counts(
    ids: string[],
  ): Promise<{ chunks: number[]; postings: number[]; statsChunks: number }> {
    const perDocument = await Promise.all(
      ids.map(async (id) => {
        const [row]: { chunks: number; postings: number }[] = await dataSource.query(
          `SELECT (SELECT count(*)::int FROM chunks WHERE document_id = $1) AS chunks,
                  (SELECT count(*)::int FROM chunk_terms t JOIN chunks c ON c.id = t.chunk_id WHERE c.document_id = $1) AS postings`,
          [id],
        );
        return row ?? { chunks: -1, postings: -1 };
      }),
    );
    const [stats]: { chunks: number }[] = await dataSource.query(
      `SELECT coalesce(sum(chunk_count), 0)::int AS chunks FROM corpus_stats WHERE tenant = $1`,
      [DEFAULT_TENANT],
    );
    return {
      chunks: perDocument.map((row) => row.chunks),
      postings: perDocument.map((row) => row.postings),
      statsChunks: stats?.chunks ?? -1,
    };
  }

  it('writes many documents in one transaction, and writing them again leaves no duplicates', async () => {
    const ids = [await addDocument(), await addDocument(), await addDocument()];
    const group = ids.map((documentId, i) => ({
      tenant: DEFAULT_TENANT,
      documentId,
      chunks: TWO_CHUNKS.slice(0, 1 + (i % 2)),
    }));
    const before = await counts([]);
    assert.deepEqual([...(await index.replaceChunksOfMany(group))].sort(), [...ids].sort());
    const first = await counts(ids);
    assert.deepEqual(first.chunks, [1, 2, 1]);
    assert.ok(first.postings.every((postings) => postings > 0));
    assert.equal(first.statsChunks - before.statsChunks, 4);

    // A worker that crashed after the commit but before its jobs completed: the jobs run again.
    await index.replaceChunksOfMany(group);
    assert.deepEqual(await counts(ids), first);
    const [row]: { chunk_count: number }[] = await dataSource.query(
      `SELECT chunk_count FROM documents WHERE id = $1`,
      [ids[1]],
    );
    assert.equal(row?.chunk_count, 2);
  });

  it('writes nothing of a group whose transaction fails, and the retried group writes each document once', async () => {
    const ids = [await addDocument(), await addDocument(), await addDocument()];
    const group = ids.map((documentId) => ({ tenant: DEFAULT_TENANT, documentId, chunks: TWO_CHUNKS }));
    await dataSource.query(`INSERT INTO test_failing_documents VALUES ($1)`, [ids[2]]);
    const before = await counts([]);
    await assert.rejects(index.replaceChunksOfMany(group), /chunk insert refused/);
    assert.deepEqual((await counts(ids)).chunks, [0, 0, 0], 'the failed transaction left nothing behind');

    await dataSource.query(`DELETE FROM test_failing_documents`);
    await index.replaceChunksOfMany(group);
    const after = await counts(ids);
    assert.deepEqual(after.chunks, [2, 2, 2]);
    assert.equal(after.statsChunks - before.statsChunks, 6);
  });

  it('leaves out a document deleted before its group is written, and writes the others', async () => {
    const [kept, deleted, alsoKept] = [await addDocument(), await addDocument(), await addDocument()];
    await dataSource.query(`DELETE FROM documents WHERE id = $1`, [deleted]);
    const written = await index.replaceChunksOfMany(
      [kept, deleted, alsoKept].map((documentId) => ({
        tenant: DEFAULT_TENANT,
        documentId,
        chunks: TWO_CHUNKS,
      })),
    );
    assert.deepEqual([...written].sort(), [kept, alsoKept].sort());
    assert.deepEqual((await counts([kept, deleted, alsoKept])).chunks, [2, 0, 2]);
  });

  it("fails only the document that breaks its group; the group's others are written", async () => {
    const ids = [await addDocument(), await addDocument(), await addDocument(), await addDocument()];
    await dataSource.query(`INSERT INTO test_failing_documents VALUES ($1)`, [ids[1]]);
    // Submitted in one tick: they go out as one group, which fails, then one by one.
    const outcomes = await Promise.allSettled(
      ids.map((id) => batches.writeChunks(DEFAULT_TENANT, id, TWO_CHUNKS)),
    );
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /chunk insert refused/);
    assert.deepEqual((await counts(ids)).chunks, [2, 0, 2, 2]);
  });

  it('marks a written document as waiting for publication only while it is being processed', async () => {
    const [processing, requeued] = [await addDocument(), await addDocument()];
    await dataSource.query(`UPDATE documents SET status = 'processing' WHERE id = $1`, [processing]);
    await index.replaceChunksOfMany(
      [processing, requeued].map((documentId) => ({
        tenant: DEFAULT_TENANT,
        documentId,
        chunks: TWO_CHUNKS,
      })),
    );
    const rows: { id: string; waiting: boolean }[] = await dataSource.query(
      `SELECT id, written_at IS NOT NULL AS waiting FROM documents WHERE id = ANY($1::uuid[])`,
      [[processing, requeued]],
    );
    assert.deepEqual(
      new Map(rows.map((row) => [row.id, row.waiting])),
      new Map([
        [processing, true],
        [requeued, false],
      ]),
    );
  });

  it('leaves no posting without its chunk after rewrites and deletes, and keeps term_df equal to the postings', async () => {
    const ids = [await addDocument(), await addDocument(), await addDocument()];
    const group = ids.map((documentId) => ({ tenant: DEFAULT_TENANT, documentId, chunks: TWO_CHUNKS }));
    await index.replaceChunksOfMany(group);
    // Re-ingest with fewer chunks: the old chunks are deleted by the write itself.
    await index.replaceChunksOfMany(group.map((document) => ({ ...document, chunks: TWO_CHUNKS.slice(1) })));
    // A document deleted (its chunks go by cascade), and chunks deleted directly.
    await new DocumentsRepository(dataSource).delete(DEFAULT_TENANT, ids[0] ?? '');
    await dataSource.query(`DELETE FROM chunks WHERE document_id = $1`, [ids[1]]);

    const [row]: { orphans: number; postings: number; expected: number; df: number }[] =
      await dataSource.query(
        `SELECT (SELECT count(*)::int FROM chunk_terms t
                 WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = t.chunk_id)) AS orphans,
                (SELECT count(*)::int FROM chunk_terms WHERE tenant = $1) AS postings,
                (SELECT coalesce(sum(length(tsv)), 0)::int FROM chunks WHERE tenant = $1) AS expected,
                (SELECT coalesce(sum(df), 0)::int FROM term_df WHERE tenant = $1) AS df`,
        [DEFAULT_TENANT],
      );
    assert.equal(row?.orphans, 0);
    assert.equal(row?.postings, row?.expected, 'one posting per lexeme of each remaining chunk');
    assert.equal(row?.df, row?.postings, 'term_df counts exactly the remaining postings');
    assert.deepEqual((await counts(ids)).chunks, [0, 0, 1]);
  });

  it('claims a group: marks each document processing with its upload; a deleted one is null', async () => {
    const [present, deleted] = [await addDocument(), await addDocument()];
    await dataSource.query(`DELETE FROM documents WHERE id = $1`, [deleted]);
    const [claimed, gone] = await Promise.all([
      batches.claim(DEFAULT_TENANT, present),
      batches.claim(DEFAULT_TENANT, deleted),
    ]);
    assert.equal(gone, null);
    assert.equal(claimed?.body?.toString(), 'body');
    assert.equal(claimed?.mimeType, 'text/plain');
    const [row]: { status: string; attempts: number; progress: number }[] = await dataSource.query(
      `SELECT status, attempts, progress FROM documents WHERE id = $1`,
      [present],
    );
    assert.deepEqual(row, { status: 'processing', attempts: 1, progress: 10 });
  });

  it('writes chunks of a document deleted while its group waited as false, the others as true', async () => {
    const [kept, deleted] = [await addDocument(), await addDocument()];
    await dataSource.query(`DELETE FROM documents WHERE id = $1`, [deleted]);
    assert.deepEqual(
      await Promise.all([
        batches.writeChunks(DEFAULT_TENANT, kept, TWO_CHUNKS),
        batches.writeChunks(DEFAULT_TENANT, deleted, TWO_CHUNKS),
      ]),
      [true, false],
    );
  });
});
