import { SearchRepository, type Bm25Parameters, type SearchHit } from '#libs/database';
import { CorpusStatsCache } from './corpus-stats-cache.js';
import { parseQuestion } from './query-parser.js';

/** Tuned on the SciFact train questions (docs/retrieval.md). */
export const DEFAULT_BM25: Bm25Parameters = { k1: 1.2, b: 0.4 };

export interface RetrievalRequest {
  query: string;
  topK: number;
  collection?: string | null;
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
  private readonly stats: CorpusStatsCache;

  constructor(
    private readonly search: SearchRepository,
    private readonly bm25: Bm25Parameters = DEFAULT_BM25,
  ) {
    this.stats = new CorpusStatsCache(() => this.search.readCorpusStats());
  }

  async retrieve(request: RetrievalRequest): Promise<Retrieval> {
    const question = parseQuestion(request.query);
    const stats = await this.stats.get(request.corpusVersion);
    if (question.text === '' || stats.configs.length === 0) return { hits: [], idf: new Map() };
    const analysed = await this.search.analyse({
      text: question.text,
      phrases: question.phrases,
      excludes: question.excludes,
      configs: stats.configs,
    });
    return this.search.search({
      lexemes: analysed.lexemes,
      limit: request.topK,
      stats,
      bm25: this.bm25,
      collection: request.collection,
      phraseQueries: analysed.phraseQueries,
      excludeQuery: analysed.excludeQuery,
      snippets: request.snippets,
    });
  }
}
