/**
 * The two BM25 statements over the chunk_terms postings (ADR 0004, ADR 0029). Both score with the
 * same expression and break ties by chunk id, so where both return a top, it is the same top.
 *
 * - exhaustive: reads every posting of every query term. Cost grows with the corpus.
 * - covering: scores only the chunks the GIN index returns for a covering query (term-coverings.ts),
 *   and reports how many of them reach θ, so the caller knows whether the top is proven.
 *
 * Parameters of both: $1 lexemes, $2 N, $3 avgdl, $4 k1, $5 b, $6 limit, $7 tenant; then
 * (covering) the tsquery and θ, then the optional filters.
 *
 * TENANCY: every read of chunks, postings and document frequencies is keyed by the tenant, so
 * ranking only ever sees the tenant's own chunks. The check on the final rows repeats it on at most
 * `limit` rows, so that no rewrite of the ranking can return a foreign chunk.
 */

export interface SearchVariant {
  collection: boolean;
  phrases: boolean;
  exclude: boolean;
  snippets: boolean;
}

/**
 * Marks around highlighted words in snippets. Markdown bold rather than «» (which Russian text
 * uses as ordinary quotes) or <b> (which would invite rendering unescaped chunk text as HTML).
 */
const HIGHLIGHT_START = '**';
const HIGHLIGHT_END = '**';

const HEADLINE_OPTIONS =
  `StartSel="${HIGHLIGHT_START}", StopSel="${HIGHLIGHT_END}", ` +
  `MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "`;

const TERMS = `
    terms AS MATERIALIZED (
      SELECT lexeme, ln(1 + ($2::float8 - df + 0.5) / (df + 0.5)) AS idf
      FROM term_df
      WHERE tenant = $7::text AND lexeme = ANY($1::text[]) AND df > 0
    )`;

/** BM25 weight of posting `p` for a term whose idf is `idf` ($3 avgdl, $4 k1, $5 b). */
const weight = (idf: string, p: string): string =>
  `${idf} * ${p}.tf * ($4::float8 + 1)
   / (${p}.tf + $4::float8 * (1 - $5::float8 + $5::float8 * ${p}.chunk_length / $3::float8))`;

/**
 * The order of scores: rounded to 1e-9, because the statements add a chunk's term weights in
 * different orders, and equal scores must tie (then the chunk id decides) in both.
 */
const rankOf = (score: string): string => `round(${score} * 1e9)`;

/** Numbers the statement's parameters after the seven every statement has. */
class Parameters {
  private count = 7;

  next(cast: string): string {
    this.count++;
    return `$${this.count}::${cast}`;
  }
}

const collectionFilter = (chunk: string, collection: string): string =>
  `EXISTS (SELECT 1 FROM chunks fc JOIN documents fd ON fd.id = fc.document_id
           WHERE fc.id = ${chunk} AND fd.collection = ${collection})`;

/** The top chunks with their text, title and snippet, after `verdict` (one row when there are none). */
function hitsOf(variant: SearchVariant, verdict: string): string {
  const snippet = variant.snippets
    ? `ts_headline(c.language::regconfig, c.content, hq.q, '${HEADLINE_OPTIONS}')`
    : `''`;
  // Each lexeme quoted for tsquery input (quotes and backslashes doubled), ORed: the headline marks any of them.
  const headlineQuery = variant.snippets
    ? `CROSS JOIN (SELECT string_agg('''' || replace(replace(l, '\\', '\\\\'), '''', '''''') || '''', ' | ')::tsquery AS q
                   FROM unnest($1::text[]) AS l) AS hq`
    : '';
  return `
    SELECT r.*, v.*, (SELECT jsonb_object_agg(lexeme, idf) FROM terms) AS idf
    FROM (${verdict}) AS v
    LEFT JOIN (
      SELECT c.id AS chunk_id, c.document_id, d.title, c.content, c.language, t.score, ${snippet} AS snippet
      FROM top t
      JOIN chunks c ON c.id = t.chunk_id
      JOIN documents d ON d.id = c.document_id
      ${headlineQuery}
      WHERE c.tenant = $7::text AND d.tenant = $7::text
    ) AS r ON true
    ORDER BY ${rankOf('r.score')} DESC, r.chunk_id`;
}

/** Every posting of every query term, summed per chunk; filters apply to the scored chunks. */
export function exhaustiveSql(variant: SearchVariant): string {
  const parameters = new Parameters();
  const filters: string[] = [];
  if (variant.collection) filters.push(collectionFilter('s.chunk_id', parameters.next('text')));
  if (variant.phrases) {
    // The GIN index on tsv finds the chunks holding every phrase.
    filters.push(`s.chunk_id IN (SELECT pc.id FROM chunks pc WHERE pc.tsv @@ ${parameters.next('tsquery')})`);
  }
  if (variant.exclude) {
    filters.push(
      `NOT EXISTS (SELECT 1 FROM chunks xc WHERE xc.id = s.chunk_id AND xc.tsv @@ ${parameters.next('tsquery')})`,
    );
  }
  return `
    WITH ${TERMS},
    scored AS (
      SELECT p.chunk_id, sum(${weight('t.idf', 'p')}) AS score
      FROM terms t
      JOIN chunk_terms p ON p.tenant = $7::text AND p.lexeme = t.lexeme
      GROUP BY p.chunk_id
    ),
    top AS (
      SELECT s.chunk_id, s.score FROM scored s
      ${filters.length > 0 ? `WHERE ${filters.join(' AND ')}` : ''}
      ORDER BY ${rankOf('s.score')} DESC, s.chunk_id
      LIMIT $6::int
    )
    ${hitsOf(variant, 'SELECT NULL::bigint AS reached')}`;
}

/**
 * Only the chunks matching the covering tsquery ($8: the minimal term sets for θ = $9, ANDed with
 * the phrases and the exclusion), each scored on all query terms by point reads of its postings.
 * `reached` counts the scored chunks at θ or above: with at least `limit` of them the top is exact.
 */
export function coveringSql(variant: SearchVariant): string {
  const parameters = new Parameters();
  const covering = parameters.next('tsquery');
  const theta = parameters.next('float8');
  const collection = variant.collection ? `AND ${collectionFilter('c.id', parameters.next('text'))}` : '';
  return `
    WITH ${TERMS},
    candidates AS MATERIALIZED (
      SELECT c.id FROM chunks c
      WHERE c.tenant = $7::text AND c.tsv @@ ${covering} ${collection}
    ),
    -- LATERAL: each candidate's postings by point reads. A join would let the planner hash every
    -- posting of the query's terms instead, which is the exhaustive cost this statement avoids.
    scored AS MATERIALIZED (
      SELECT c.id AS chunk_id, s.score
      FROM candidates c
      CROSS JOIN LATERAL (
        SELECT sum(${weight('t.idf', 'p')}) AS score
        FROM terms t
        JOIN chunk_terms p ON p.tenant = $7::text AND p.lexeme = t.lexeme AND p.chunk_id = c.id
      ) AS s
    ),
    top AS (
      SELECT chunk_id, score FROM scored
      ORDER BY ${rankOf('score')} DESC, chunk_id
      LIMIT $6::int
    )
    ${hitsOf(
      variant,
      `SELECT (SELECT count(*) FROM scored WHERE score >= ${theta})::int AS reached,
              (SELECT score FROM scored ORDER BY score DESC OFFSET $6::int - 1 LIMIT 1) AS kth`,
    )}`;
}
