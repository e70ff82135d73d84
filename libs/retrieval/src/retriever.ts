import { LRUCache } from 'lru-cache';
import type { TenantId } from '#libs/contracts';
import { SearchRepository, type Bm25Parameters, type RankingMode, type SearchHit } from '#libs/database';
import { CorpusStatsCache } from './corpus-stats-cache.js';
import { parseQuestion } from './query-parser.js';

/** Tuned on the SciFact train questions (docs/retrieval.md). */
export const DEFAULT_BM25: Bm25Parameters = { k1: 1.2, b: 0.4 };

/** Tenants whose corpus statistics a process keeps; a tenant evicted meanwhile costs one small read. */
const STATS_CACHE_TENANTS = 10_000;

export interface RetrievalRequest {
  /** Whose corpus is searched, with whose statistics. */
  tenant: TenantId;
  query: string;
  topK: number;
  collection?: string | null;
  /** The tenant's corpus version. */
  corpusVersion: number;
  /** Highlighted snippets for the hits; evaluation runs that only rank turn them off. */
  snippets?: boolean;
}

export interface Retrieval {
  hits: SearchHit[];
  /** The query's lexemes (under every configuration in use) that matched something. */
  idf: Map<string, number>;
}

/**
 * Question in, ranked chunks out: analysis and BM25 happen in Postgres, with the corpus's own stemmers.
 * Provided by a factory in RetrievalModule (its BM25 parameters are not injectable); the evaluation builds its own.
 */
export class Retriever {
  private readonly stats = new LRUCache<TenantId, CorpusStatsCache>({ max: STATS_CACHE_TENANTS });

  constructor(
    private readonly search: SearchRepository,
    private readonly bm25: Bm25Parameters = DEFAULT_BM25,
    /** How to rank (SearchRequest.ranking); benchmarks compare pruning against exhaustive ranking. */
    private readonly ranking: RankingMode = 'auto',
  ) {}

  async retrieve(request: RetrievalRequest): Promise<Retrieval> {
    const question = parseQuestion(request.query);
    const stats = await this.statsOf(request.tenant).get(request.corpusVersion);
    if (question.text === '' || stats.configs.length === 0) return { hits: [], idf: new Map() };
    const analysed = await this.search.analyse({
      text: question.text,
      phrases: question.phrases,
      excludes: question.excludes,
      configs: stats.configs,
    });
    return this.search.search({
      tenant: request.tenant,
      lexemes: analysed.lexemes,
      limit: request.topK,
      stats,
      bm25: this.bm25,
      collection: request.collection,
      phraseQueries: analysed.phraseQueries,
      excludeQuery: analysed.excludeQuery,
      snippets: request.snippets,
      ranking: this.ranking,
    });
  }

  private statsOf(tenant: TenantId): CorpusStatsCache {
    let stats = this.stats.get(tenant);
    if (stats === undefined) {
      stats = new CorpusStatsCache(() => this.search.readCorpusStats(tenant));
      this.stats.set(tenant, stats);
    }
    return stats;
  }
}
