/**
 * Search latency as the corpus grows, pruned against exhaustive BM25 on the same corpus.
 *
 * Loads SciFact through the real index writer, adds synthetic chunks with SciFact's term
 * statistics up to `--chunks` (synthetic-corpus.ts), then asks the 300 SciFact test questions one
 * at a time, as the query worker does (analysis + BM25 top 10 + snippets), pruned and exhaustive.
 * Prints p50/p95 of each, how many top-10 lists differ, sizes on disk, build times, and the
 * EXPLAIN (ANALYZE, BUFFERS) of the pruned statement for the question at the median latency.
 *
 *   node dist/scripts/bench/search-scale.js --chunks 1000000 [--database NAME] [--keep] [--data DIR]
 *
 * With --database, a database that already holds the corpus is reused (build once, measure
 * often); --keep leaves it in place. Env: SCIFACT_DIR, EVAL_DATABASE_URL (as the evaluation).
 */
import 'reflect-metadata';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { DEFAULT_TENANT } from '#libs/contracts';
import {
  createDataSource,
  runMigrations,
  SearchRepository,
  searchStatement,
  type SearchHit,
  type SearchRequest,
} from '#libs/database';
import { DEFAULT_BM25, parseQuestion, Retriever } from '#libs/retrieval';
import {
  databaseUrlOnEvalServer,
  dropEvalDatabase,
  evalDatabaseUrl,
  loadAbstracts,
  readAbstracts,
  readQrels,
  readQuestions,
  type Question,
} from '../eval/scifact-data.js';
import { addSyntheticChunks } from './synthetic-corpus.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.SCIFACT_DIR ?? '../shared/eval/scifact' },
    chunks: { type: 'string', default: '100000' },
    database: { type: 'string' },
    keep: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
  },
});

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const TOP = 10;

async function chunkCount(dataSource: DataSource): Promise<number> {
  const [{ chunks }] = await dataSource.query<{ chunks: number }[]>(
    `SELECT coalesce(sum(chunk_count), 0)::int AS chunks FROM corpus_stats WHERE tenant = $1`,
    [DEFAULT_TENANT],
  );
  return chunks;
}

async function build(dataSource: DataSource, target: number): Promise<void> {
  const abstracts = await readAbstracts(args.data);
  const start = Date.now();
  await loadAbstracts(dataSource, abstracts, DEFAULT_TENANT, () => 'scifact');
  out(
    `SciFact: ${abstracts.length} abstracts through the index writer in ${((Date.now() - start) / 1000).toFixed(1)} s`,
  );
  const synthetic = target - abstracts.length;
  if (synthetic > 0) {
    let reported = 0;
    const times = await addSyntheticChunks(dataSource, abstracts, {
      tenant: DEFAULT_TENANT,
      chunks: synthetic,
      seed: Number(args.seed),
      onProgress: (written) => {
        if (written - reported >= 200_000 || written === synthetic) {
          reported = written;
          out(`  ${written} synthetic chunks written`);
        }
      },
    });
    out(
      `synthetic: ${synthetic} chunks loaded in ${times.loadSeconds.toFixed(1)} s; ` +
        `indexes and constraints built in ${times.indexSeconds.toFixed(1)} s`,
    );
  }
  const vacuumStart = Date.now();
  // Index-only scans on the postings need the visibility map; fresh statistics give the planner real row counts.
  await dataSource.query('VACUUM ANALYZE');
  out(`VACUUM ANALYZE in ${((Date.now() - vacuumStart) / 1000).toFixed(1)} s`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Timed {
  question: Question;
  ms: number;
  hits: SearchHit[];
}

/** Each question through the Retriever, as the query worker asks it (top 10 with snippets). */
async function timeAll(retriever: Retriever, questions: Question[]): Promise<Timed[]> {
  const timed: Timed[] = [];
  for (const question of questions) {
    const start = process.hrtime.bigint();
    const { hits } = await retriever.retrieve({
      tenant: DEFAULT_TENANT,
      query: question.text,
      topK: TOP,
      corpusVersion: 1,
    });
    timed.push({ question, ms: Number(process.hrtime.bigint() - start) / 1e6, hits });
  }
  return timed;
}

function summary(label: string, timed: Timed[]): string {
  const ms = timed.map((entry) => entry.ms).sort((a, b) => a - b);
  return `${label}: p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(1)} ms`;
}

/** Top-10 lists that differ, and those among them that differ only where scores tie. */
function compare(pruned: Timed[], exhaustive: Timed[]): { differ: number; onlyTies: number } {
  let differ = 0;
  let onlyTies = 0;
  pruned.forEach((entry, i) => {
    const reference = exhaustive[i].hits;
    const same =
      entry.hits.length === reference.length &&
      entry.hits.every((hit, rank) => hit.chunkId === reference[rank].chunkId);
    if (same) return;
    differ++;
    const scoresMatch =
      entry.hits.length === reference.length &&
      entry.hits.every((hit, rank) => Math.abs(hit.score - reference[rank].score) < 1e-9);
    if (scoresMatch) onlyTies++;
  });
  return { differ, onlyTies };
}

/** The ranking request the Retriever makes for a question (top 10, with snippets). */
async function requestOf(search: SearchRepository, question: Question): Promise<SearchRequest> {
  const stats = await search.readCorpusStats(DEFAULT_TENANT);
  const parsed = parseQuestion(question.text);
  const analysed = await search.analyse({
    text: parsed.text,
    phrases: parsed.phrases,
    excludes: parsed.excludes,
    configs: stats.configs,
  });
  return { tenant: DEFAULT_TENANT, lexemes: analysed.lexemes, limit: TOP, stats, bm25: DEFAULT_BM25 };
}

/** How the questions were answered: statements per question, and how many fell back to reading every posting. */
async function plans(search: SearchRepository, questions: Question[]): Promise<string> {
  const passes = new Map<number, number>();
  let exhaustive = 0;
  for (const question of questions) {
    const result = await search.search(await requestOf(search, question));
    passes.set(result.passes, (passes.get(result.passes) ?? 0) + 1);
    if (result.plan === null) exhaustive++;
  }
  const histogram = [...passes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([count, questionsWith]) => `${count}: ${questionsWith}`)
    .join(', ');
  return `statements per question (count: questions) ${histogram}; answered by reading every posting: ${exhaustive}`;
}

async function explain(
  dataSource: DataSource,
  search: SearchRepository,
  question: Question,
): Promise<string> {
  const request = await requestOf(search, question);
  // The statement that answered: earlier passes (if any) are not shown.
  const { plan } = await search.search(request);
  const statement = searchStatement(request, plan);
  const rows = await dataSource.query<{ 'QUERY PLAN': string }[]>(
    `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`,
    statement.values,
  );
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

async function sizes(dataSource: DataSource): Promise<string> {
  const [row] = await dataSource.query<Record<string, string>[]>(`
    SELECT pg_size_pretty(pg_database_size(current_database())) AS database,
           pg_size_pretty(pg_total_relation_size('chunk_terms')) AS postings,
           pg_size_pretty(pg_total_relation_size('term_df')) AS term_df,
           pg_size_pretty(pg_relation_size('chunks_tsv_idx')) AS gin,
           pg_size_pretty(pg_total_relation_size('chunks')) AS chunks,
           (SELECT count(*) FROM chunk_terms)::text AS posting_rows,
           (SELECT count(*) FROM term_df WHERE df > 0)::text AS terms`);
  return (
    `database ${row.database}; chunk_terms ${row.postings} (${row.posting_rows} postings); ` +
    `chunks ${row.chunks} (GIN index on tsv ${row.gin}); term_df ${row.term_df} (${row.terms} terms)`
  );
}

async function main(): Promise<void> {
  const target = Number(args.chunks);
  if (!Number.isInteger(target) || target < 1) throw new Error('--chunks must be a positive integer');
  const databaseUrl =
    args.database === undefined ? evalDatabaseUrl('scale') : databaseUrlOnEvalServer(args.database);
  // Creates the database when it does not exist yet.
  await runMigrations(databaseUrl);
  const dataSource = createDataSource({
    url: databaseUrl,
    poolSize: 4,
    applicationName: 'rag-gateway:bench',
  });
  try {
    await dataSource.initialize();
    const existing = await chunkCount(dataSource);
    if (existing === 0) await build(dataSource, target);
    else out(`reusing ${existing} chunks in ${new URL(databaseUrl).pathname.slice(1)}`);
    const total = await chunkCount(dataSource);
    out(await sizes(dataSource));

    const test = await readQrels(path.join(args.data, 'qrels', 'test.tsv'));
    const questions = (await readQuestions(args.data)).filter((question) => test.has(question.id));
    const search = new SearchRepository(dataSource);
    const pruned = new Retriever(search, DEFAULT_BM25);
    const exhaustive = new Retriever(search, DEFAULT_BM25, 'exhaustive');
    // A first pass warms the caches for both (exhaustive ranking reads a superset of the pages,
    // and at a million chunks takes seconds a question, so it runs once).
    await timeAll(pruned, questions);
    const prunedRun = await timeAll(pruned, questions);
    const exhaustiveRun = await timeAll(exhaustive, questions);
    out(
      `${total} chunks, ${questions.length} SciFact test questions, one at a time, top ${TOP} with snippets:`,
    );
    out(summary('  pruned    ', prunedRun));
    out(summary('  exhaustive', exhaustiveRun));
    const { differ, onlyTies } = compare(prunedRun, exhaustiveRun);
    out(
      `  top ${TOP} identical to exhaustive on ${questions.length - differ}/${questions.length} questions` +
        (differ > 0 ? ` (${onlyTies} of the ${differ} others differ only in the order of equal scores)` : ''),
    );
    out(`  ${await plans(search, questions)}`);
    const median = [...prunedRun].sort((a, b) => a.ms - b.ms)[Math.floor(prunedRun.length / 2)];
    out(`EXPLAIN (ANALYZE, BUFFERS), pruned, median question "${median.question.text}":`);
    out(await explain(dataSource, search, median.question));
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    if (!args.keep) await dropEvalDatabase(databaseUrl);
  }
}

await main();
