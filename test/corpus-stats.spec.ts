import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_TENANT, parseTenantId, type TenantId } from '#libs/contracts';
import { ChunkIndexRepository, createDataSource } from '#libs/database';
import type { DataSource } from 'typeorm';
import { addIndexedDocument } from './support/indexed-documents.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

interface StatsRow {
  tenant: string;
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

  const addDocument = (
    chunks: { content: string; language: 'english' | 'russian' }[],
    tenant: TenantId = DEFAULT_TENANT,
  ): Promise<string> => addIndexedDocument(dataSource, { chunks, tenant });

  /** The totals the triggers keep must equal a fresh count over `chunks`, per tenant and language. */
  async function assertStatsMatchChunks(): Promise<StatsRow[]> {
    const kept: StatsRow[] = await dataSource.query(
      `SELECT tenant, language, chunk_count::text, term_total::text FROM corpus_stats
       WHERE chunk_count > 0 ORDER BY tenant, language`,
    );
    const counted: StatsRow[] = await dataSource.query(
      `SELECT tenant, language, count(*)::text AS chunk_count, sum(term_count)::text AS term_total
       FROM chunks GROUP BY tenant, language ORDER BY tenant, language`,
    );
    assert.deepEqual(kept, counted);
    return kept;
  }

  it('follow inserts, re-indexing and cascaded deletes per tenant and language', async () => {
    const english = await addDocument([
      { content: 'Cells divide by mitosis.', language: 'english' },
      { content: 'Proteins fold into shapes.', language: 'english' },
    ]);
    await addDocument([{ content: 'Клетки делятся митозом.', language: 'russian' }]);
    await addDocument(
      [{ content: 'Another tenant writes about mitosis.', language: 'english' }],
      parseTenantId('acme'),
    );
    const afterInsert = await assertStatsMatchChunks();
    assert.deepEqual(
      afterInsert.map((row) => [row.tenant, row.language, row.chunk_count]),
      [
        ['acme', 'english', '1'],
        ['default', 'english', '2'],
        ['default', 'russian', '1'],
      ],
    );

    await index.replaceChunks(DEFAULT_TENANT, english, [
      { content: 'Cells divide.', language: 'english', startOffset: 0, endOffset: 13 },
    ]);
    assert.equal((await assertStatsMatchChunks())[1]?.chunk_count, '1');

    await dataSource.query('DELETE FROM documents WHERE id = $1', [english]);
    const afterDelete = await assertStatsMatchChunks();
    assert.deepEqual(
      afterDelete.map((row) => [row.tenant, row.language]),
      [
        ['acme', 'english'],
        ['default', 'russian'],
      ],
    );
  });
});
