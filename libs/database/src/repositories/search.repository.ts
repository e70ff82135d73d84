import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { TenantId } from '#libs/contracts';
import { impactBoundSlope } from '../ranking/impact-bound.js';
import { coveringSql, exhaustiveSql, type SearchVariant } from '../ranking/search-statements.js';
import {
  coveringMayPay,
  coveringPays,
  coveringQuery,
  minimalCoverings,
  type BoundedTerm,
} from '../ranking/term-coverings.js';
import type { TextSearchConfig } from './chunk-index.repository.js';

/** A tenant's corpus figures BM25 needs besides the postings; read rarely and cached by the caller. */
export interface CorpusStats {
  /** Number of chunks (N). */
  chunkCount: number;
  /** Mean chunk length in indexed terms (avgdl). */
  averageChunkLength: number;
  /** Text-search configurations the chunks were indexed with: a question is analysed with each of them. */
  configs: TextSearchConfig[];
}

export interface QueryAnalysisInput {
  /** The words to rank by (plain words and the words of quoted phrases). */
  text: string;
  phrases: string[];
  excludes: string[];
  configs: TextSearchConfig[];
}

export interface AnalysedQuery {
  /** Distinct lexemes of the question under every configuration in use, stop words dropped. */
  lexemes: string[];
  /** One tsquery (text form) per quoted phrase; a chunk must match every one. */
  phraseQueries: string[];
  /** A tsquery (text form) matching any excluded word; chunks matching it are left out. */
  excludeQuery: string | null;
}

export interface Bm25Parameters {
  k1: number;
  b: number;
}

export type RankingMode = 'auto' | 'covering' | 'exhaustive';

export interface SearchRequest {
  /** Only this tenant's chunks are ranked; document frequencies are counted within it too (ADR 0008). */
  tenant: TenantId;
  lexemes: string[];
  limit: number;
  stats: CorpusStats;
  bm25: Bm25Parameters;
  collection?: string | null;
  phraseQueries?: string[];
  excludeQuery?: string | null;
  /** Highlighted excerpts of the returned chunks (skipped by evaluation runs that only rank). */
  snippets?: boolean;
  /**
   * auto (default): covering passes where their estimated cost pays, else every posting.
   * covering: covering passes whatever the estimate (tests of their exactness on small corpora).
   * exhaustive: every posting of every term, the reference benchmarks check pruning against.
   */
  ranking?: RankingMode;
}

export interface SearchHit {
  chunkId: string;
  documentId: string;
  title: string;
  content: string;
  language: TextSearchConfig;
  score: number;
  /** Empty when snippets were not asked for. */
  snippet: string;
}

export interface SearchResult {
  hits: SearchHit[];
  /** Inverse document frequency of each query lexeme found in the index (absent lexemes match nothing). */
  idf: Map<string, number>;
  /** The plan of the statement that answered, and how many statements ranking took. */
  plan: RankingPlan;
  passes: number;
}

/** Sentences of chunk text, analysed with the chunk's own configuration. */
export interface TextToAnalyse {
  text: string;
  config: TextSearchConfig;
}

interface StatsRow extends QueryResultRow {
  language: string;
  chunks: number;
  terms: number;
}

interface AnalysisRow extends QueryResultRow {
  lexemes: string[];
  phrase_queries: (string | null)[];
  exclude_query: string | null;
}

/** One row per hit; with no hits, one row of nulls carrying the verdict and idf. */
interface HitRow extends QueryResultRow {
  chunk_id: string | null;
  document_id: string;
  title: string;
  content: string;
  language: TextSearchConfig;
  score: number;
  snippet: string;
  idf: Record<string, number> | null;
  /** Covering statements: scored chunks at θ or above, and the limit-th best score (null: fewer chunks). */
  reached: number | null;
  kth: number | null;
}

interface TermRow extends QueryResultRow {
  lexeme: string;
  df: number;
  best_key: number;
}

const KNOWN_CONFIGS: readonly TextSearchConfig[] = ['english', 'russian', 'simple'];

const STATS_SQL = `
  SELECT language, chunk_count::int AS chunks, term_total::float8 AS terms
  FROM corpus_stats WHERE tenant = $1 AND chunk_count > 0`;

/*
 * Stop words are dropped under both stemmers, because the 'simple' configuration keeps them
 * (and 'english' keeps Russian ones): "the" or "как" would otherwise rank simple chunks.
 */
const ANALYSIS_SQL = `
  SELECT
    array(SELECT DISTINCT l
          FROM unnest($2::regconfig[]) AS cfg, unnest(tsvector_to_array(to_tsvector(cfg, $1))) AS l
          WHERE ts_lexize('english_stem', l) IS DISTINCT FROM '{}'
            AND ts_lexize('russian_stem', l) IS DISTINCT FROM '{}') AS lexemes,
    array(SELECT (SELECT string_agg(DISTINCT '(' || q::text || ')', ' | ')
                  FROM unnest($2::regconfig[]) AS cfg, phraseto_tsquery(cfg, p) AS q
                  WHERE numnode(q) > 0)
          FROM unnest($3::text[]) AS p) AS phrase_queries,
    (SELECT string_agg(DISTINCT '(' || q::text || ')', ' | ')
     FROM unnest($2::regconfig[]) AS cfg, unnest($4::text[]) AS w, plainto_tsquery(cfg, w) AS q
     WHERE numnode(q) > 0) AS exclude_query`;

const SENTENCE_LEXEMES_SQL = `
  SELECT tsvector_to_array(to_tsvector(t.cfg::regconfig, t.body)) AS lexemes
  FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(body, cfg, n)
  ORDER BY t.n`;

/** A prepared statement: its name, SQL and parameters. */
export interface NamedStatement {
  name: string;
  text: string;
  values: unknown[];
}

/**
 * How a ranking statement finds its chunks: a covering tsquery and its θ (ADR 0029), or null for
 * reading every posting of every term.
 */
export type RankingPlan = { covering: string; theta: number } | null;

const TERM_BOUNDS_SQL = `
  SELECT lexeme, df, best_key FROM term_df WHERE tenant = $1 AND lexeme = ANY($2::text[]) AND df > 0`;

/** Set counts past which a covering query costs more than reading the postings. */
const MAX_COVERING_SETS = 64;
/** First θ as a share of the query's ceilings, and how fast θ falls when too few chunks reach it. */
const FIRST_THETA_SHARE = 0.4;
const THETA_FALL = 0.6;
const MAX_COVERING_PASSES = 4;

/** The ranking statement for a request and plan (what `search` runs; benchmarks EXPLAIN it). */
export function searchStatement(request: SearchRequest, plan: RankingPlan): NamedStatement {
  const variant: SearchVariant = {
    collection: request.collection !== undefined && request.collection !== null,
    phrases: (request.phraseQueries?.length ?? 0) > 0,
    exclude: request.excludeQuery !== undefined && request.excludeQuery !== null,
    snippets: request.snippets ?? true,
  };
  const values: unknown[] = [
    request.lexemes,
    request.stats.chunkCount,
    request.stats.averageChunkLength,
    request.bm25.k1,
    request.bm25.b,
    request.limit,
    request.tenant,
  ];
  const phrases = request.phraseQueries?.map((query) => `(${query})`).join(' & ');
  const flags = Object.values(variant)
    .map((on) => (on ? '1' : '0'))
    .join('');
  if (plan === null) {
    if (variant.collection) values.push(request.collection);
    if (variant.phrases) values.push(phrases);
    if (variant.exclude) values.push(request.excludeQuery);
    return { name: `search_bm25_all_${flags}`, text: exhaustiveSql(variant), values };
  }
  // Phrases and exclusions narrow the covering query itself: the index applies them.
  let covering = `(${plan.covering})`;
  if (variant.phrases) covering += ` & ${phrases}`;
  if (variant.exclude) covering += ` & !(${request.excludeQuery})`;
  values.push(covering, plan.theta);
  if (variant.collection) values.push(request.collection);
  return { name: `search_bm25_covering_${flags}`, text: coveringSql(variant), values };
}

function toResult(rows: HitRow[], plan: RankingPlan, passes: number): SearchResult {
  const hits: SearchHit[] = [];
  for (const row of rows) {
    if (row.chunk_id === null) continue;
    hits.push({
      chunkId: row.chunk_id,
      documentId: row.document_id,
      title: row.title,
      content: row.content,
      language: row.language,
      score: row.score,
      snippet: row.snippet,
    });
  }
  return { hits, idf: new Map(Object.entries(rows[0]?.idf ?? {})), plan, passes };
}

/**
 * Read side of the chunk index: question analysis, BM25 ranking and snippets, all in SQL.
 *
 * Statements run as named (prepared) statements on the TypeORM pool's own pg connections:
 * planning was most of the cost of these queries, and node-postgres prepares a named statement
 * once per connection and reuses it. Going through the same pool keeps one set of limits.
 */
@Injectable()
export class SearchRepository {
  /** The primary's DataSource, or the pool of a read replica (see ReadReplica). */
  constructor(@InjectDataSource() private readonly source: DataSource | Pool) {}

  async readCorpusStats(tenant: TenantId): Promise<CorpusStats> {
    const rows = await this.run<StatsRow>('search_corpus_stats', STATS_SQL, [tenant]);
    let chunkCount = 0;
    let terms = 0;
    const configs: TextSearchConfig[] = [];
    for (const row of rows) {
      chunkCount += row.chunks;
      terms += row.terms;
      const config = KNOWN_CONFIGS.find((known) => known === row.language);
      if (config !== undefined) configs.push(config);
    }
    configs.sort();
    return { chunkCount, averageChunkLength: chunkCount === 0 ? 0 : terms / chunkCount, configs };
  }

  async analyse(input: QueryAnalysisInput): Promise<AnalysedQuery> {
    const [row] = await this.run<AnalysisRow>('search_analyse', ANALYSIS_SQL, [
      input.text,
      input.configs,
      input.phrases,
      input.excludes,
    ]);
    return {
      lexemes: row.lexemes,
      phraseQueries: row.phrase_queries.filter((query): query is string => query !== null),
      excludeQuery: row.exclude_query,
    };
  }

  /**
   * BM25 top `limit`, exactly as exhaustive ranking would return it, reading as little as it can:
   * covering passes from a high θ down (each pass proves its top or says how far to lower θ), and
   * every posting only when the covering query would be too large or θ reaches nothing.
   */
  async search(request: SearchRequest): Promise<SearchResult> {
    if (request.lexemes.length === 0 || request.stats.chunkCount === 0) {
      return { hits: [], idf: new Map(), plan: null, passes: 0 };
    }
    let passes = 0;
    const mode = request.ranking ?? 'auto';
    // On a small corpus no covering pass can pay: skip the read of the terms' bounds as well.
    const tryCovering =
      mode === 'covering' ||
      (mode === 'auto' && coveringMayPay(request.lexemes.length, request.stats.chunkCount));
    if (tryCovering) {
      const terms = await this.boundedTerms(request);
      // No query term is indexed: nothing matches, as the exhaustive statement would find.
      if (terms.length === 0) return { hits: [], idf: new Map(), plan: null, passes: 0 };
      const frequencies = new Map(terms.map((term) => [term.lexeme, term.df]));
      const total = terms.reduce((sum, term) => sum + term.ceiling, 0);
      const smallest = Math.min(...terms.map((term) => term.ceiling));
      let theta = total * FIRST_THETA_SHARE;
      while (passes < MAX_COVERING_PASSES && theta > smallest) {
        const sets = minimalCoverings(terms, theta, MAX_COVERING_SETS);
        if (sets === null) break;
        if (mode === 'auto' && !coveringPays(sets, frequencies, request.stats.chunkCount)) break;
        const plan = { covering: coveringQuery(sets), theta };
        const statement = searchStatement(request, plan);
        const rows = await this.run<HitRow>(statement.name, statement.text, statement.values);
        passes++;
        const verdict = rows[0];
        if ((verdict?.reached ?? 0) >= request.limit) return toResult(rows, plan, passes);
        // At least `limit` chunks score kth or more, so covering kth proves the top; else guess lower.
        theta = verdict?.kth ?? theta * THETA_FALL;
      }
    }
    const statement = searchStatement(request, null);
    const rows = await this.run<HitRow>(statement.name, statement.text, statement.values);
    return toResult(rows, null, passes + 1);
  }

  /** The query's terms with the most one posting of each can add (term_df, impactBoundSlope). */
  private async boundedTerms(request: SearchRequest): Promise<(BoundedTerm & { df: number })[]> {
    const rows = await this.run<TermRow>('search_term_bounds', TERM_BOUNDS_SQL, [
      request.tenant,
      request.lexemes,
    ]);
    const slope = impactBoundSlope(request.bm25, request.stats.averageChunkLength);
    const n = request.stats.chunkCount;
    return rows.map((row) => {
      // The statement computes idf itself; this copy only bounds it, so it is rounded up a hair.
      const idf = Math.log(1 + (n - row.df + 0.5) / (row.df + 0.5)) * (1 + 1e-9);
      return {
        lexeme: row.lexeme,
        df: row.df,
        ceiling: (idf * (request.bm25.k1 + 1)) / (1 + slope * row.best_key),
      };
    });
  }

  /** Lexemes of each text under its own configuration, in input order. */
  async lexemesOf(texts: TextToAnalyse[]): Promise<string[][]> {
    if (texts.length === 0) return [];
    const rows = await this.run<{ lexemes: string[] }>('search_sentence_lexemes', SENTENCE_LEXEMES_SQL, [
      texts.map((text) => text.text),
      texts.map((text) => text.config),
    ]);
    return rows.map((row) => row.lexemes);
  }

  private async run<R extends QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> {
    const result = await this.pool().query<R>({ name, text, values });
    return result.rows;
  }

  private pool(): Pool {
    return this.source instanceof DataSource
      ? ((this.source.driver as PostgresDriver).master as Pool)
      : this.source;
  }
}
