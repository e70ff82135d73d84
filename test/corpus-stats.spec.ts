import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ChunkIndexRepository, createDataSource } from '#libs/database';
import type { DataSource } from 'typeorm';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

interface StatsRow {
  language: string;
  chunk_count: string;
  term_total: string;
}

describe('corpus_stats', () => {
  let env: TestEnvironment;
  let dataSource: DataSource;
  let index: ChunkIndexRepository;

  before(async () => {
    env = await createTestEnvironment();
    dataSource = createDataSource({ url: env.config.DATABASE_URL, poolSize: 2, applicationName: 'test' });
    await dataSource.initialize();
    index = new ChunkIndexRepository(dataSource);
  });

  after(async () => {
    await dataSource?.destroy();
    await env?.cleanup();
  });

  async function addDocument(
    chunks: { content: string; language: 'english' | 'russian' }[],
  ): Promise<string> {
    const id = randomUUID();
    await dataSource.query(
      `INSERT INTO documents (id, collection, title, status, size_bytes, mime_type, content_sha256)
       VALUES ($1, 'default', '', 'processing', 1, 'text/plain', 'x')`,
      [id],
    );
    await index.replaceChunks(
      id,
      chunks.map((chunk) => ({ ...chunk, startOffset: 0, endOffset: chunk.content.length })),
    );
    return id;
  }

  /** The totals the triggers keep must equal a fresh count over `chunks`. */
  async function assertStatsMatchChunks(): Promise<StatsRow[]> {
    const kept: StatsRow[] = await dataSource.query(
      `SELECT language, chunk_count::text, term_total::text FROM corpus_stats WHERE chunk_count > 0 ORDER BY language`,
    );
    const counted: StatsRow[] = await dataSource.query(
      `SELECT language, count(*)::text AS chunk_count, sum(term_count)::text AS term_total
       FROM chunks GROUP BY language ORDER BY language`,
    );
    assert.deepEqual(kept, counted);
    return kept;
  }

  it('follow inserts, re-indexing and cascaded deletes per language', async () => {
    const english = await addDocument([
      { content: 'Cells divide by mitosis.', language: 'english' },
      { content: 'Proteins fold into shapes.', language: 'english' },
    ]);
    await addDocument([{ content: 'Клетки делятся митозом.', language: 'russian' }]);
    const afterInsert = await assertStatsMatchChunks();
    assert.deepEqual(
      afterInsert.map((row) => [row.language, row.chunk_count]),
      [
        ['english', '2'],
        ['russian', '1'],
      ],
    );

    await index.replaceChunks(english, [
      { content: 'Cells divide.', language: 'english', startOffset: 0, endOffset: 13 },
    ]);
    assert.equal((await assertStatsMatchChunks())[0]?.chunk_count, '1');

    await dataSource.query('DELETE FROM documents WHERE id = $1', [english]);
    const afterDelete = await assertStatsMatchChunks();
    assert.deepEqual(
      afterDelete.map((row) => row.language),
      ['russian'],
    );
  });
});
