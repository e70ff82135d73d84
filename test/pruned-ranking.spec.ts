import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { DEFAULT_TENANT, parseTenantId, type TenantId } from '#libs/contracts';
import {
  ChunkIndexRepository,
  createDataSource,
  SearchRepository,
  type CorpusStats,
  type SearchRequest,
  type SearchResult,
} from '#libs/database';
import { DEFAULT_BM25 } from '#libs/retrieval';
import { addIndexedDocument } from './support/indexed-documents.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

/** A small deterministic generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const VOCABULARY = Array.from({ length: 300 }, (_, i) => `w${i}x`);

/** Words with Zipf-like frequencies: a few in most chunks, most in few, as in real text. */
function zipfWord(next: () => number): string {
  return VOCABULARY[Math.floor(VOCABULARY.length * next() ** 3)];
}

describe('pruned BM25 ranking', () => {
  let env: TestEnvironment;
  let dataSource: DataSource;
  let index: ChunkIndexRepository;
  let search: SearchRepository;
  const contents: string[] = [];

  const addDocument = (
    content: string,
    collection: string,
    tenant: TenantId = DEFAULT_TENANT,
  ): Promise<string> =>
    addIndexedDocument(dataSource, { chunks: [{ content, language: 'english' }], tenant, collection });

  async function stats(tenant: TenantId = DEFAULT_TENANT): Promise<CorpusStats> {
    return search.readCorpusStats(tenant);
  }

  /** The same request ranked pruned and exhaustively; the tops must be the same chunks, scores and order. */
  async function assertSameAsExhaustive(request: SearchRequest): Promise<SearchResult> {
    // Covering passes whatever the cost estimate (on this small corpus it would read every posting).
    const pruned = await search.search({ ...request, ranking: 'covering' });
    const exhaustive = await search.search({ ...request, ranking: 'exhaustive' });
    assert.deepEqual(
      pruned.hits.map((hit) => hit.chunkId),
      exhaustive.hits.map((hit) => hit.chunkId),
      `lexemes ${request.lexemes.join(' ')}, limit ${request.limit}`,
    );
    pruned.hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - exhaustive.hits[i].score) < 1e-9));
    assert.deepEqual(pruned.idf, exhaustive.idf);
    return pruned;
  }

  before(async () => {
    env = await createTestEnvironment();
    dataSource = createDataSource({ url: env.config.DATABASE_URL, poolSize: 2, applicationName: 'test' });
    await dataSource.initialize();
    index = new ChunkIndexRepository(dataSource);
    search = new SearchRepository(dataSource);
    const next = random(42);
    for (let i = 0; i < 600; i++) {
      const words = Array.from({ length: 15 + Math.floor(next() * 60) }, () => zipfWord(next));
      contents.push(words.join(' '));
    }
    // Exact copies make equal scores, where only the chunk id orders the top.
    contents.push(contents[3], contents[3], contents[17]);
    for (const [i, content] of contents.entries()) await addDocument(content, i % 3 === 0 ? 'a' : 'b');
    await dataSource.query('ANALYZE');
  });

  after(async () => {
    await dataSource?.destroy();
    await env?.cleanup();
  });

  it('keeps term_df equal to the postings through inserts, re-indexing and cascaded deletes', async () => {
    const tenant = parseTenantId('df-check');
    const first = await addDocument('w1x w2x w2x w3x', 'a', tenant);
    const second = await addDocument('w2x w4x', 'a', tenant);
    await index.replaceChunks(tenant, first, [
      { content: 'w5x w5x w5x w1x', language: 'english', startOffset: 0, endOffset: 15 },
    ]);
    await dataSource.query(`DELETE FROM documents WHERE id = $1`, [second]);
    const kept: { lexeme: string; df: number }[] = await dataSource.query(
      `SELECT lexeme, df FROM term_df WHERE tenant = $1 AND df > 0 ORDER BY lexeme`,
      [tenant],
    );
    const counted: { lexeme: string; df: number }[] = await dataSource.query(
      `SELECT lexeme, count(*)::int AS df FROM chunk_terms WHERE tenant = $1 GROUP BY lexeme ORDER BY lexeme`,
      [tenant],
    );
    assert.deepEqual(kept, counted);
    assert.deepEqual(
      kept.map((row) => row.lexeme),
      ['w1x', 'w5x'],
    );
    // Each term's best key is at most the key of every posting it has now (a removed one may have been lower).
    const [{ violations }]: { violations: number }[] = await dataSource.query(
      `SELECT count(*)::int AS violations
       FROM chunk_terms p JOIN term_df d ON d.tenant = p.tenant AND d.lexeme = p.lexeme
       WHERE d.best_key > (0.6 + 0.4 * p.chunk_length::float8 / 128) / p.tf`,
    );
    assert.equal(violations, 0);
  });

  it('returns exactly the exhaustive top for random questions, mostly without reading every posting', async () => {
    const next = random(9);
    const corpus = await stats();
    let covered = 0;
    const questions = 60;
    for (let q = 0; q < questions; q++) {
      const lexemes = [...new Set(Array.from({ length: 2 + Math.floor(next() * 6) }, () => zipfWord(next)))];
      for (const limit of [1, 10, 30]) {
        const result = await assertSameAsExhaustive({
          tenant: DEFAULT_TENANT,
          lexemes,
          limit,
          stats: corpus,
          bm25: DEFAULT_BM25,
          snippets: false,
        });
        if (limit === 10 && result.plan !== null) covered++;
      }
    }
    // The covering path must actually be taken, or this test would only compare exhaustive with itself.
    assert.ok(covered >= questions / 2, `${covered} of ${questions} answered by a covering query`);
  });

  it('applies collection, phrase and exclusion filters inside the ranking, as exhaustive ranking does', async () => {
    const corpus = await stats();
    const [first, second] = contents[5].split(' ');
    const base = { tenant: DEFAULT_TENANT, limit: 10, stats: corpus, bm25: DEFAULT_BM25, snippets: false };
    const lexemes = [first, second, VOCABULARY[0], VOCABULARY[40]];
    const inCollection = await assertSameAsExhaustive({ ...base, lexemes, collection: 'a' });
    assert.ok(inCollection.hits.length > 0);
    const phrased = await assertSameAsExhaustive({
      ...base,
      lexemes,
      phraseQueries: [`'${first}' <-> '${second}'`],
    });
    assert.ok(phrased.hits.some((hit) => hit.content === contents[5]));
    for (const hit of phrased.hits) assert.ok(hit.content.includes(`${first} ${second}`));
    const excluded = await assertSameAsExhaustive({ ...base, lexemes, excludeQuery: `'${VOCABULARY[0]}'` });
    for (const hit of excluded.hits) assert.ok(!hit.content.split(' ').includes(VOCABULARY[0]));
  });

  it("never ranks another tenant's chunks, and counts document frequencies per tenant", async () => {
    const other = parseTenantId('other-tenant');
    const rare = 'w299x w298x';
    await addDocument(rare, 'a', other);
    const result = await search.search({
      tenant: other,
      lexemes: ['w299x', 'w298x', VOCABULARY[0]],
      limit: 10,
      stats: await stats(other),
      bm25: DEFAULT_BM25,
      snippets: false,
    });
    assert.deepEqual(
      result.hits.map((hit) => hit.content),
      [rare],
    );
  });
});
