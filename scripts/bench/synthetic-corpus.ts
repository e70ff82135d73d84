/**
 * A large corpus with SciFact's term statistics, written straight into the index tables.
 *
 * Each synthetic chunk is a real abstract's sentences in order, about half of them swapped for
 * sentences drawn from the whole corpus: chunks keep real sentence-level vocabulary, lengths and
 * topical clusters (every abstract has many noisy relatives), and no two are copies. Text is
 * analysed by Postgres with the product's `english` configuration, and the chunk and posting rows
 * are those the index writer makes, so the triggers keep `corpus_stats` and `term_df` as usual.
 *
 * Loading is fast because the postings' indexes and foreign key are dropped first and built once
 * at the end (their definitions read from the catalogue, so the schema stays the migrations'
 * own), and the batches run on two connections.
 */
import type { DataSource } from 'typeorm';
import { splitSentences } from '#libs/retrieval';
import type { Abstract } from '../eval/scifact-data.js';

export interface SyntheticCorpusOptions {
  tenant: string;
  /** Synthetic chunks to add. */
  chunks: number;
  seed: number;
  /** Chunks per synthetic document. */
  chunksPerDocument?: number;
  onProgress?: (written: number) => void;
}

export interface BuildTimes {
  loadSeconds: number;
  indexSeconds: number;
}

const BATCH = 50_000;
const CONNECTIONS = 2;

/** Indexes and constraints rebuilt after the load, in this order (a primary key before the foreign keys). */
interface Rebuild {
  drop: string;
  create: string;
}

export async function addSyntheticChunks(
  dataSource: DataSource,
  abstracts: Abstract[],
  options: SyntheticCorpusOptions,
): Promise<BuildTimes> {
  const perDocument = options.chunksPerDocument ?? 4;
  await writeSentences(dataSource, abstracts);
  const rebuilds = await dropLoadIndexes(dataSource);

  const loadStart = Date.now();
  let nextBatch = 0;
  let written = 0;
  const batches = Math.ceil(options.chunks / BATCH);
  const worker = async (): Promise<void> => {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SET work_mem = '256MB'`);
      await runner.query(`SET synchronous_commit = off`);
      while (nextBatch < batches) {
        const batch = nextBatch++;
        const from = batch * BATCH;
        const to = Math.min(options.chunks, from + BATCH);
        await writeBatch(runner.query.bind(runner), options, perDocument, from, to);
        written += to - from;
        options.onProgress?.(written);
      }
    } finally {
      await runner.release();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const loadSeconds = (Date.now() - loadStart) / 1000;

  const indexStart = Date.now();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SET maintenance_work_mem = '2GB'`);
    await runner.query(`SET max_parallel_maintenance_workers = 2`);
    for (const rebuild of rebuilds) await runner.query(rebuild.create);
  } finally {
    await runner.release();
  }
  await dataSource.query('DROP TABLE synthetic_sentences');
  return { loadSeconds, indexSeconds: (Date.now() - indexStart) / 1000 };
}

async function writeSentences(dataSource: DataSource, abstracts: Abstract[]): Promise<void> {
  const abstractIndex: number[] = [];
  const positions: number[] = [];
  const bodies: string[] = [];
  abstracts.forEach((abstract, index) => {
    for (const sentence of splitSentences(abstract.text)) {
      abstractIndex.push(index);
      positions.push(sentence.index);
      bodies.push(sentence.text);
    }
  });
  await dataSource.query(`DROP TABLE IF EXISTS synthetic_sentences`);
  await dataSource.query(`
    CREATE UNLOGGED TABLE synthetic_sentences (
      id        integer PRIMARY KEY,
      abstract  integer NOT NULL,
      position  integer NOT NULL,
      body      text NOT NULL
    )`);
  await dataSource.query(
    `INSERT INTO synthetic_sentences (id, abstract, position, body)
     SELECT n::int - 1, a, p, b FROM unnest($1::int[], $2::int[], $3::text[]) WITH ORDINALITY AS s(a, p, b, n)`,
    [abstractIndex, positions, bodies],
  );
  await dataSource.query(`CREATE INDEX ON synthetic_sentences (abstract)`);
  await dataSource.query(`ANALYZE synthetic_sentences`);
}

/** Drops the postings' secondary indexes, primary key and foreign key, and the chunks' GIN index. */
async function dropLoadIndexes(dataSource: DataSource): Promise<Rebuild[]> {
  const constraints: { name: string; definition: string; type: string }[] = await dataSource.query(`
    SELECT conname AS name, pg_get_constraintdef(oid) AS definition, contype AS type
    FROM pg_constraint WHERE conrelid = 'chunk_terms'::regclass AND contype IN ('p', 'f')
    ORDER BY contype DESC`);
  const indexes: { name: string; definition: string }[] = await dataSource.query(`
    SELECT i.indexname AS name, i.indexdef AS definition
    FROM pg_indexes i
    WHERE i.schemaname = current_schema()
      AND (i.tablename = 'chunk_terms' OR (i.tablename = 'chunks' AND i.indexdef LIKE '%USING gin%'))
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`);
  const rebuilds: Rebuild[] = [
    ...constraints.map((constraint) => ({
      drop: `ALTER TABLE chunk_terms DROP CONSTRAINT ${constraint.name}`,
      create: `ALTER TABLE chunk_terms ADD CONSTRAINT ${constraint.name} ${constraint.definition}`,
    })),
    ...indexes.map((index) => ({ drop: `DROP INDEX ${index.name}`, create: index.definition })),
  ];
  for (const rebuild of rebuilds) await dataSource.query(rebuild.drop);
  return rebuilds;
}

type Query = (sql: string, parameters?: unknown[]) => Promise<unknown>;

/** Synthetic chunks [from, to): their documents, chunks and postings, in one transaction. */
async function writeBatch(
  query: Query,
  options: SyntheticCorpusOptions,
  perDocument: number,
  from: number,
  to: number,
): Promise<void> {
  const parameters = [options.tenant, from, to, options.seed, perDocument];
  await query('BEGIN');
  try {
    await query(
      `INSERT INTO documents (id, tenant, collection, title, status, size_bytes, mime_type, content_sha256, chunk_count)
       SELECT md5('synthetic:' || $4::bigint || ':' || g)::uuid, $1, 'synthetic', '', 'indexed', 0, 'text/plain',
              md5(g::text), $5::int
       FROM generate_series($2::bigint / $5::int, ($3::bigint - 1) / $5::int) AS g
       ON CONFLICT DO NOTHING`,
      parameters,
    );
    // Chunk i follows abstract hash(i); each of its sentences is kept or swapped on a coin of hash(i, position).
    await query(
      `WITH counts AS (
         SELECT max(abstract) + 1 AS abstracts, count(*) AS sentences FROM synthetic_sentences
       ),
       picked AS (
         SELECT i, string_agg(CASE WHEN hashint8extended(i * 1024 + s.position, $4::bigint) & 1 = 0
                                   THEN s.body ELSE r.body END, ' ' ORDER BY s.position) AS content
         FROM generate_series($2::bigint, $3::bigint - 1) AS i
         CROSS JOIN counts n
         JOIN synthetic_sentences s ON s.abstract = abs(hashint8extended(i, $4::bigint)) % n.abstracts
         JOIN synthetic_sentences r
           ON r.id = abs(hashint8extended(i * 1024 + s.position, $4::bigint + 1)) % n.sentences
         GROUP BY i
       ),
       analysed AS (
         SELECT i, content, to_tsvector('english', content) AS tsv FROM picked
       ),
       inserted AS (
         INSERT INTO chunks (tenant, document_id, ordinal, content, language, tsv, start_offset, end_offset, term_count)
         SELECT $1, md5('synthetic:' || $4::bigint || ':' || (i / $5::int))::uuid, (i % $5::int)::int, content,
                'english', tsv, 0, length(content),
                coalesce((SELECT sum(coalesce(array_length(positions, 1), 1)) FROM unnest(tsv)), 0)
         FROM analysed
         RETURNING id, tsv, term_count
       )
       INSERT INTO chunk_terms (tenant, lexeme, chunk_id, tf, chunk_length)
       SELECT $1, t.lexeme, x.id, coalesce(array_length(t.positions, 1), 1), x.term_count
       FROM inserted x, unnest(x.tsv) AS t`,
      parameters,
    );
    await query('COMMIT');
  } catch (error) {
    await query('ROLLBACK');
    throw error;
  }
}
