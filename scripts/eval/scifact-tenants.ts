/**
 * BM25 statistics per tenant or shared (ADR 0008)? SciFact split across two tenants, each
 * question asked by the tenant holding (most of) its relevant abstracts and judged on that
 * tenant's abstracts only, ranked two ways:
 *
 *   per tenant  the product: the tenant's own postings, document frequencies, N and average length;
 *   shared      the same ranking and the same tenant filter, but statistics over both tenants'
 *               abstracts (every abstract loaded once more into one tenant, its collection naming
 *               its owner, and searched with that collection).
 *
 * Two splits: even (50/50) and skewed (10/90, where the small tenant's statistics are the noisiest).
 *
 *   node dist/scripts/eval/scifact-tenants.js [--data DIR]
 *
 * Env: SCIFACT_DIR (default ../shared/eval/scifact), EVAL_DATABASE_URL (server for the scratch database).
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseTenantId, type TenantId } from '#libs/contracts';
import { createDataSource, runMigrations, SearchRepository } from '#libs/database';
import { DEFAULT_BM25, Retriever } from '#libs/retrieval';
import {
  dropEvalDatabase,
  evalDatabaseUrl,
  loadAbstracts,
  ndcgAt,
  readAbstracts,
  readQrels,
  readQuestions,
  type Abstract,
} from './scifact-data.js';

const { values: args } = parseArgs({
  options: { data: { type: 'string', default: process.env.SCIFACT_DIR ?? '../shared/eval/scifact' } },
});

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface Split {
  label: string;
  /** Which of the two tenants an abstract goes to. */
  side: (abstract: Abstract) => 0 | 1;
}

/** A stable pseudo-random number in [0, 1) per abstract, so the splits are reproducible. */
function unit(abstract: Abstract): number {
  return createHash('sha256').update(abstract.id).digest().readUInt32BE(0) / 2 ** 32;
}

const SPLITS: Split[] = [
  { label: 'even 50/50', side: (abstract) => (unit(abstract) < 0.5 ? 0 : 1) },
  { label: 'skewed 10/90', side: (abstract) => (unit(abstract) < 0.1 ? 0 : 1) },
];

async function main(): Promise<void> {
  const dir = args.data;
  const abstracts = await readAbstracts(dir);
  const questions = await readQuestions(dir);
  const test = await readQrels(path.join(dir, 'qrels', 'test.tsv'));

  const databaseUrl = evalDatabaseUrl('tenants');
  await runMigrations(databaseUrl);
  const dataSource = createDataSource({
    url: databaseUrl,
    poolSize: 2,
    applicationName: 'rag-gateway:eval',
  });
  try {
    await dataSource.initialize();
    const retriever = new Retriever(new SearchRepository(dataSource), DEFAULT_BM25);
    out(
      `SciFact test questions, BM25 k1 ${DEFAULT_BM25.k1} b ${DEFAULT_BM25.b}, nDCG@10 on the asking tenant's abstracts`,
    );
    for (const [index, split] of SPLITS.entries()) {
      const started = Date.now();
      const own = [parseTenantId(`split${index}-a`), parseTenantId(`split${index}-b`)] as const;
      const shared = parseTenantId(`split${index}-shared`);
      const corpusIdOf = new Map<string, string>();
      const sideOf = new Map(abstracts.map((abstract) => [abstract.id, split.side(abstract)]));
      const remember = (loaded: Map<string, string>): void => {
        for (const [documentId, abstractId] of loaded) corpusIdOf.set(documentId, abstractId);
      };
      for (const side of [0, 1] as const) {
        const mine = abstracts.filter((abstract) => sideOf.get(abstract.id) === side);
        remember(await loadAbstracts(dataSource, mine, own[side], () => 'scifact'));
      }
      remember(await loadAbstracts(dataSource, abstracts, shared, (abstract) => own[split.side(abstract)]));
      await dataSource.query('VACUUM ANALYZE');

      const sums = [0, 1].map(() => ({ perTenant: 0, shared: 0, questions: 0 }));
      for (const question of questions) {
        const judged = test.get(question.id);
        if (judged === undefined) continue;
        const counts = [0, 0];
        for (const id of judged.keys()) counts[sideOf.get(id) ?? 0]++;
        const side = counts[1] > counts[0] ? 1 : 0;
        const ownJudged = new Map([...judged].filter(([id]) => sideOf.get(id) === side));
        const rank = async (tenant: TenantId, collection: string | null): Promise<string[]> => {
          const { hits } = await retriever.retrieve({
            tenant,
            collection,
            query: question.text,
            topK: 100,
            corpusVersion: 1,
            snippets: false,
          });
          return hits.map((hit) => corpusIdOf.get(hit.documentId) ?? '');
        };
        const sum = sums[side];
        sum.perTenant += ndcgAt(await rank(own[side], null), ownJudged, 10);
        sum.shared += ndcgAt(await rank(shared, own[side]), ownJudged, 10);
        sum.questions++;
      }
      for (const side of [0, 1] as const) {
        const sum = sums[side];
        const size = abstracts.filter((abstract) => sideOf.get(abstract.id) === side).length;
        out(
          `${split.label}, tenant ${side === 0 ? 'A' : 'B'} (${size} abstracts, ${sum.questions} questions): ` +
            `per-tenant statistics ${(sum.perTenant / sum.questions).toFixed(4)}, shared ${(sum.shared / sum.questions).toFixed(4)}`,
        );
      }
      const total = sums[0].questions + sums[1].questions;
      out(
        `${split.label}, all ${total} questions: per-tenant ${((sums[0].perTenant + sums[1].perTenant) / total).toFixed(4)}, ` +
          `shared ${((sums[0].shared + sums[1].shared) / total).toFixed(4)} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
      );
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await dropEvalDatabase(databaseUrl);
  }
}

await main();
