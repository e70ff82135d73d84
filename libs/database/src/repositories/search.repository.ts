import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { TenantId } from '#libs/contracts';
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
}

/**
 * Marks around highlighted words in snippets. Markdown bold rather than «» (which Russian text
 * uses as ordinary quotes) or <b> (which would invite rendering unescaped chunk text as HTML).
 */
export const HIGHLIGHT_START = '**';
export const HIGHLIGHT_END = '**';

const HEADLINE_OPTIONS =
  `StartSel="${HIGHLIGHT_START}", StopSel="${HIGHLIGHT_END}", ` +
  `MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "`;

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

interface HitRow extends QueryResultRow {
  chunk_id: string;
  document_id: string;
  title: string;
  content: string;
  language: TextSearchConfig;
  score: number;
  snippet: string;
  idf: Record<string, number> | null;
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

interface SearchVariant {
  collection: boolean;
  phrases: boolean;
  exclude: boolean;
  snippets: boolean;
}

/**
 * BM25 over the chunk_terms postings, in one statement: the postings of the query's lexemes are read
 * once (index-only scan on (lexeme, chunk_id) INCLUDE (tf, chunk_length)), document frequencies are
 * counted from those same rows, and only the top chunks are joined to their text.
 *
 * Parameters: $1 lexemes, $2 N, $3 avgdl, $4 k1, $5 b, $6 limit, $7 tenant, then optional collection,
 * the phrases' tsquery (all must match) and the exclusion tsquery.
 *
 * TENANCY: the tenant filter sits in the postings scan (the primary key leads with the tenant), so
 * ranking, document frequencies included, only ever sees the tenant's own chunks. The check on the
 * final rows repeats it on at most `limit` rows, so that no rewrite of the ranking can return a
 * foreign chunk.
 */
function searchSql(variant: SearchVariant): string {
  const params: string[] = [];
  const next = (cast: string): string => {
    params.push(cast);
    return `$${7 + params.length}::${cast}`;
  };
  const filters: string[] = [];
  if (variant.collection) {
    filters.push(`EXISTS (SELECT 1 FROM chunks fc JOIN documents fd ON fd.id = fc.document_id
                          WHERE fc.id = s.chunk_id AND fd.collection = ${next('text')})`);
  }
  if (variant.phrases) {
    // The GIN index on tsv finds the chunks holding every phrase.
    filters.push(`s.chunk_id IN (SELECT pc.id FROM chunks pc WHERE pc.tsv @@ ${next('tsquery')})`);
  }
  if (variant.exclude) {
    filters.push(
      `NOT EXISTS (SELECT 1 FROM chunks xc WHERE xc.id = s.chunk_id AND xc.tsv @@ ${next('tsquery')})`,
    );
  }
  const snippet = variant.snippets
    ? `ts_headline(c.language::regconfig, c.content, hq.q, '${HEADLINE_OPTIONS}')`
    : `''`;
  // Each lexeme quoted for tsquery input (quotes and backslashes doubled), ORed: the headline marks any of them.
  const headlineQuery = variant.snippets
    ? `CROSS JOIN (SELECT string_agg('''' || replace(replace(l, '\\', '\\\\'), '''', '''''') || '''', ' | ')::tsquery AS q
                   FROM unnest($1::text[]) AS l) AS hq`
    : '';
  return `
    WITH postings AS MATERIALIZED (
      SELECT lexeme, chunk_id, tf, chunk_length,
             count(*) OVER (PARTITION BY lexeme) AS df
      FROM chunk_terms
      WHERE tenant = $7::text AND lexeme = ANY($1::text[])
    ),
    scored AS (
      SELECT chunk_id,
             sum(ln(1 + ($2::float8 - df + 0.5) / (df + 0.5))
                 * tf * ($4::float8 + 1)
                 / (tf + $4::float8 * (1 - $5::float8 + $5::float8 * chunk_length / $3::float8))) AS score
      FROM postings
      GROUP BY chunk_id
    ),
    top AS (
      SELECT s.chunk_id, s.score FROM scored s
      ${filters.length > 0 ? `WHERE ${filters.join('\n        AND ')}` : ''}
      ORDER BY s.score DESC, s.chunk_id
      LIMIT $6::int
    )
    SELECT c.id AS chunk_id, c.document_id, d.title, c.content, c.language, t.score,
           ${snippet} AS snippet,
           (SELECT jsonb_object_agg(lexeme, ln(1 + ($2::float8 - df + 0.5) / (df + 0.5)))
            FROM (SELECT DISTINCT lexeme, df FROM postings) AS f) AS idf
    FROM top t
    JOIN chunks c ON c.id = t.chunk_id
    JOIN documents d ON d.id = c.document_id
    ${headlineQuery}
    WHERE c.tenant = $7::text AND d.tenant = $7::text
    ORDER BY t.score DESC, t.chunk_id`;
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

  async search(request: SearchRequest): Promise<SearchResult> {
    if (request.lexemes.length === 0 || request.stats.chunkCount === 0) return { hits: [], idf: new Map() };
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
    if (variant.collection) values.push(request.collection);
    if (variant.phrases) values.push(request.phraseQueries?.map((query) => `(${query})`).join(' & '));
    if (variant.exclude) values.push(request.excludeQuery);
    const name = `search_bm25_${Object.values(variant)
      .map((on) => (on ? '1' : '0'))
      .join('')}`;
    const rows = await this.run<HitRow>(name, searchSql(variant), values);
    return {
      hits: rows.map((row) => ({
        chunkId: row.chunk_id,
        documentId: row.document_id,
        title: row.title,
        content: row.content,
        language: row.language,
        score: row.score,
        snippet: row.snippet,
      })),
      idf: new Map(Object.entries(rows[0]?.idf ?? {})),
    };
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
