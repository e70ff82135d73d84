/**
 * BEIR SciFact evaluation of the retriever: loads the abstracts into a fresh database through the
 * real index writer, ranks every question with the real Retriever, and reports nDCG@10, recall@100
 * and search latency. Tune on the train questions only; the test figure is the one to quote.
 *
 *   node dist/scripts/eval/scifact.js [--data DIR] [--title none|once|twice] [--chunk-chars N] [--copies N]
 *                                     [--k1 X --b Y] [--tune]
 *
 * Env: SCIFACT_DIR (default ../shared/eval/scifact, beside the checkout), EVAL_DATABASE_URL (server to create the
 * scratch database on; default postgres://postgres@127.0.0.1:5432/postgres).
 */
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import {
  ChunkIndexRepository,
  createDataSource,
  runMigrations,
  SearchRepository,
  type Bm25Parameters,
  type ChunkInput,
} from '#libs/database';
import { DEFAULT_BM25, Retriever, splitSentences } from '#libs/retrieval';
import { DEFAULT_TENANT } from '#libs/contracts';
import {
  dropEvalDatabase,
  evalDatabaseUrl,
  ndcgAt,
  readAbstracts,
  readQrels,
  readQuestions,
  type Abstract,
  type Qrels,
  type Question,
} from './scifact-data.js';

type TitleMode = 'none' | 'once' | 'twice';

interface RunFigures {
  ndcg10: number;
  recall100: number;
  questions: number;
  empty: number;
}

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.SCIFACT_DIR ?? '../shared/eval/scifact' },
    title: { type: 'string', default: 'once' },
    'chunk-chars': { type: 'string', default: '0' },
    k1: { type: 'string' },
    b: { type: 'string' },
    tune: { type: 'boolean', default: false },
    // Latency at scale: index the corpus this many times over (as other documents) and time
    // the test questions; quality is reported only for one copy.
    copies: { type: 'string', default: '1' },
  },
});

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The writer indexes the document's title with its first chunk, so 'once' is the product's own behaviour. */
function passageOf(abstract: Abstract, mode: TitleMode): string {
  return mode === 'twice' ? `${abstract.title}\n\n${abstract.text}` : abstract.text;
}

function indexedTitle(abstract: Abstract, mode: TitleMode): string {
  return mode === 'none' ? '' : abstract.title;
}

/** Whole sentences packed up to `maxChars` (0: one chunk), enough to see what splitting abstracts costs. */
function chunkPassage(passage: string, maxChars: number): ChunkInput[] {
  if (maxChars === 0)
    return [{ content: passage, language: 'english', startOffset: 0, endOffset: passage.length }];
  const chunks: ChunkInput[] = [];
  let current = '';
  for (const sentence of splitSentences(passage)) {
    if (current !== '' && current.length + 1 + sentence.text.length > maxChars) {
      chunks.push({ content: current, language: 'english', startOffset: 0, endOffset: current.length });
      current = '';
    }
    current = current === '' ? sentence.text : `${current} ${sentence.text}`;
  }
  if (current !== '')
    chunks.push({ content: current, language: 'english', startOffset: 0, endOffset: current.length });
  return chunks;
}

async function loadCorpus(
  dataSource: DataSource,
  abstracts: Abstract[],
  mode: TitleMode,
  chunkChars: number,
): Promise<Map<string, string>> {
  const corpusIdOf = new Map<string, string>();
  const rows = abstracts.map((abstract) => {
    const id = randomUUID();
    corpusIdOf.set(id, abstract.id);
    return {
      id,
      title: indexedTitle(abstract, mode),
      size: Buffer.byteLength(abstract.text),
      sha: createHash('sha256').update(abstract.text).digest('hex'),
    };
  });
  await dataSource.query(
    `INSERT INTO documents (id, tenant, collection, title, status, size_bytes, mime_type, content_sha256)
     SELECT id, 'default', 'scifact', title, 'processing', size_bytes, 'text/plain', sha
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, title text, size_bytes int, sha text)`,
    [
      JSON.stringify(
        rows.map((row) => ({ id: row.id, title: row.title, size_bytes: row.size, sha: row.sha })),
      ),
    ],
  );
  const writer = new ChunkIndexRepository(dataSource);
  for (const [i, abstract] of abstracts.entries()) {
    await writer.replaceChunks(
      DEFAULT_TENANT,
      rows[i].id,
      chunkPassage(passageOf(abstract, mode), chunkChars),
    );
  }
  // Index-only scans on the postings need the visibility map; fresh statistics give the planner real row counts.
  await dataSource.query('VACUUM ANALYZE');
  return corpusIdOf;
}

async function evaluate(
  retriever: Retriever,
  questions: Question[],
  qrels: Qrels,
  corpusIdOf: Map<string, string>,
): Promise<RunFigures> {
  let ndcg = 0;
  let recall = 0;
  let empty = 0;
  let count = 0;
  for (const question of questions) {
    const judged = qrels.get(question.id);
    if (judged === undefined) continue;
    // Chunks are ranked; a document counts at the rank of its best chunk.
    const { hits } = await retriever.retrieve({
      tenant: DEFAULT_TENANT,
      query: question.text,
      topK: 300,
      corpusVersion: 1,
      snippets: false,
    });
    const ranked: string[] = [];
    for (const hit of hits) {
      const corpusId = corpusIdOf.get(hit.documentId);
      if (corpusId !== undefined && !ranked.includes(corpusId)) ranked.push(corpusId);
      if (ranked.length === 100) break;
    }
    if (ranked.length === 0) empty++;
    ndcg += ndcgAt(ranked, judged, 10);
    recall += ranked.filter((id) => judged.has(id)).length / judged.size;
    count++;
  }
  return { ndcg10: ndcg / count, recall100: recall / count, questions: count, empty };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Adds `copies - 1` more copies of every document, chunk and posting (new ids, collection
 * "scifact-copy"), in SQL: the corpus_stats triggers count them like any other chunks.
 */
async function replicateCorpus(dataSource: DataSource, copies: number): Promise<void> {
  for (let copy = 1; copy < copies; copy++) {
    await dataSource.transaction(async (manager) => {
      await manager.query(`CREATE TEMP TABLE copy_of ON COMMIT DROP AS
        SELECT id AS old_id, gen_random_uuid() AS new_id FROM documents WHERE collection = 'scifact'`);
      await manager.query(`INSERT INTO documents (id, tenant, collection, title, status, size_bytes, mime_type, content_sha256)
        SELECT m.new_id, d.tenant, 'scifact-copy', d.title, 'indexed', d.size_bytes, d.mime_type, d.content_sha256
        FROM documents d JOIN copy_of m ON m.old_id = d.id`);
      await manager.query(`WITH inserted AS (
          INSERT INTO chunks (tenant, document_id, ordinal, content, language, tsv, start_offset, end_offset, term_count)
          SELECT c.tenant, m.new_id, c.ordinal, c.content, c.language, c.tsv, c.start_offset, c.end_offset, c.term_count
          FROM chunks c JOIN copy_of m ON m.old_id = c.document_id
          RETURNING id, document_id, ordinal)
        INSERT INTO chunk_terms (tenant, lexeme, chunk_id, tf, chunk_length)
        SELECT t.tenant, t.lexeme, i.id, t.tf, t.chunk_length
        FROM inserted i
        JOIN copy_of m ON m.new_id = i.document_id
        JOIN chunks old ON old.document_id = m.old_id AND old.ordinal = i.ordinal
        JOIN chunk_terms t ON t.chunk_id = old.id`);
    });
  }
  await dataSource.query('VACUUM ANALYZE');
}

/** Wall time of the search call as the query worker makes it: analysis, BM25 top 10, snippets. */
async function latency(retriever: Retriever, questions: Question[]): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (const question of questions) {
    const start = process.hrtime.bigint();
    await retriever.retrieve({ tenant: DEFAULT_TENANT, query: question.text, topK: 10, corpusVersion: 1 });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const format = (figures: RunFigures): string =>
  `nDCG@10 ${figures.ndcg10.toFixed(4)}  recall@100 ${figures.recall100.toFixed(4)}  ` +
  `(${figures.questions} questions, ${figures.empty} without results)`;

async function main(): Promise<void> {
  const mode = args.title as TitleMode;
  if (!['none', 'once', 'twice'].includes(mode)) throw new Error(`--title must be none, once or twice`);
  const chunkChars = Number(args['chunk-chars']);
  const dir = args.data;
  const abstracts = await readAbstracts(dir);
  const questions = await readQuestions(dir);
  const train = await readQrels(path.join(dir, 'qrels', 'train.tsv'));
  const test = await readQrels(path.join(dir, 'qrels', 'test.tsv'));

  const databaseUrl = evalDatabaseUrl('scifact');
  await runMigrations(databaseUrl);
  const dataSource = createDataSource({
    url: databaseUrl,
    poolSize: 2,
    applicationName: 'rag-gateway:eval',
  });
  try {
    await dataSource.initialize();
    const loadStart = Date.now();
    const corpusIdOf = await loadCorpus(dataSource, abstracts, mode, chunkChars);
    const [{ chunks }] = await dataSource.query<{ chunks: number }[]>(
      'SELECT count(*)::int AS chunks FROM chunks',
    );
    out(
      `loaded ${abstracts.length} abstracts as ${chunks} chunks (title ${mode}) in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`,
    );

    const copies = Number(args.copies);
    if (!Number.isInteger(copies) || copies < 1) throw new Error('--copies must be a positive integer');
    const search = new SearchRepository(dataSource);
    if (copies > 1) {
      const copyStart = Date.now();
      await replicateCorpus(dataSource, copies);
      const [{ total }] = await dataSource.query<{ total: number }[]>(
        'SELECT count(*)::int AS total FROM chunks',
      );
      out(
        `replicated to ${copies} copies: ${total} chunks in ${((Date.now() - copyStart) / 1000).toFixed(1)} s`,
      );
      const testQuestions = questions.filter((question) => test.has(question.id));
      const timing = await latency(new Retriever(search, DEFAULT_BM25), testQuestions);
      out(
        `latency at ${total} chunks (analysis + BM25 top 10 + snippets, ${testQuestions.length} test questions, one at a time): p50 ${timing.p50.toFixed(2)} ms, p95 ${timing.p95.toFixed(2)} ms`,
      );
      return;
    }
    let bm25: Bm25Parameters = {
      k1: args.k1 === undefined ? DEFAULT_BM25.k1 : Number(args.k1),
      b: args.b === undefined ? DEFAULT_BM25.b : Number(args.b),
    };
    if (args.tune) {
      let best = { bm25, ndcg: -1 };
      for (const k1 of [0.6, 0.9, 1.2, 1.5]) {
        for (const b of [0.3, 0.4, 0.5, 0.6, 0.75]) {
          const figures = await evaluate(new Retriever(search, { k1, b }), questions, train, corpusIdOf);
          out(`train k1 ${k1} b ${b}: ${format(figures)}`);
          if (figures.ndcg10 > best.ndcg) best = { bm25: { k1, b }, ndcg: figures.ndcg10 };
        }
      }
      bm25 = best.bm25;
      out(`best on train: k1 ${bm25.k1} b ${bm25.b}`);
    }
    const retriever = new Retriever(search, bm25);
    out(
      `train k1 ${bm25.k1} b ${bm25.b}: ${format(await evaluate(retriever, questions, train, corpusIdOf))}`,
    );
    out(`test  k1 ${bm25.k1} b ${bm25.b}: ${format(await evaluate(retriever, questions, test, corpusIdOf))}`);
    const testQuestions = questions.filter((question) => test.has(question.id));
    const timing = await latency(retriever, testQuestions);
    out(
      `latency (analysis + BM25 top 10 + snippets, ${testQuestions.length} test questions, one at a time): p50 ${timing.p50.toFixed(2)} ms, p95 ${timing.p95.toFixed(2)} ms`,
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await dropEvalDatabase(databaseUrl);
  }
}

await main();
