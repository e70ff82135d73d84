/**
 * Which chunks can reach a score θ, as a text-search query the GIN index answers (ADR 0029).
 *
 * A chunk's BM25 score is at most the sum of the ceilings of the query terms it contains (a term's
 * ceiling: the most one of its postings can add). So every chunk scoring θ or more contains some
 * set of terms whose ceilings sum to θ or more, and then also a minimal such set. The query ORs
 * the minimal sets, each an AND of its terms: the index intersects posting lists, and only the
 * chunks it returns are scored.
 */

export interface BoundedTerm {
  lexeme: string;
  /** Upper bound of the term's weight in any chunk. */
  ceiling: number;
}

/**
 * The minimal sets of terms whose ceilings sum to at least `theta`, or null when there are more
 * than `max` of them (the query would cost more than it saves). With theta ≤ 0 no chunk can be
 * ruled out: every term alone is a set.
 */
export function minimalCoverings(
  terms: readonly BoundedTerm[],
  theta: number,
  max: number,
): string[][] | null {
  const sorted = [...terms].filter((term) => term.ceiling > 0).sort((a, b) => b.ceiling - a.ceiling);
  // suffix[i]: what the terms from i on can still add.
  const suffix = new Array<number>(sorted.length + 1).fill(0);
  for (let i = sorted.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + sorted[i].ceiling;
  const found: string[][] = [];
  const chosen: string[] = [];
  // Terms are taken in descending ceiling, so a set is minimal exactly when dropping its last
  // (smallest) term falls below theta.
  const walk = (from: number, sum: number): boolean => {
    for (let i = from; i < sorted.length; i++) {
      if (sum + suffix[i] < theta) return true;
      const next = sum + sorted[i].ceiling;
      chosen.push(sorted[i].lexeme);
      if (next >= theta) {
        found.push([...chosen]);
        if (found.length > max) return false;
      } else if (!walk(i + 1, next)) {
        return false;
      }
      chosen.pop();
    }
    return true;
  };
  return walk(0, 0) ? found : null;
}

/** A lexeme as a tsquery operand: quoted, with quotes and backslashes doubled. */
export function tsqueryOperand(lexeme: string): string {
  return `'${lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

/** The sets as tsquery text: an OR of ANDs. */
export function coveringQuery(sets: readonly string[][]): string {
  return sets.map((set) => `(${set.map(tsqueryOperand).join(' & ')})`).join(' | ');
}

/** Relative costs measured on this machine at 1M chunks (docs/benchmarks.md), per posting or point read. */
const COST = {
  /** Reading and summing one posting of an exhaustive ranking. */
  exhaustivePosting: 1,
  /** The GIN index walking one posting of a term in a covering query. */
  indexPosting: 0.1,
  /** Scoring one candidate on one term: a point read of its posting. */
  pointRead: 4,
};

/** Below this many postings, reading them all takes tens of milliseconds: nothing to win. */
const MIN_POSTINGS = 100_000;
/**
 * The covering estimate must beat reading every posting by this factor: candidates of related
 * terms outnumber the independence estimate, and a large covering query costs the index more per
 * posting than a small one. Both chosen on the scale benchmark (docs/benchmarks.md).
 */
const MARGIN = 0.5;

/**
 * Whether a covering pass could pay at all, before any per-term figure is read: a term has at
 * most one posting per chunk, so a corpus this small holds too few postings whatever the terms.
 */
export function coveringMayPay(terms: number, chunks: number): boolean {
  return terms * chunks >= MIN_POSTINGS;
}

/**
 * Whether a covering pass is likely cheaper than reading every posting. Candidates are estimated
 * as if terms occurred independently (an underestimate for related terms, so the guard errs
 * toward trying the covering pass); a wrong guess costs time, never the ranking.
 */
export function coveringPays(
  sets: readonly string[][],
  documentFrequency: ReadonlyMap<string, number>,
  chunks: number,
): boolean {
  const df = (lexeme: string): number => documentFrequency.get(lexeme) ?? 0;
  const allPostings = [...documentFrequency.values()].reduce((sum, value) => sum + value, 0);
  if (allPostings < MIN_POSTINGS) return false;
  const indexed = new Set(sets.flat());
  const candidates = Math.min(
    chunks,
    sets.reduce(
      (sum, set) => sum + chunks * set.reduce((share, lexeme) => share * (df(lexeme) / chunks), 1),
      0,
    ),
  );
  const indexPostings = [...indexed].reduce((sum, lexeme) => sum + df(lexeme), 0);
  const covering = indexPostings * COST.indexPosting + candidates * documentFrequency.size * COST.pointRead;
  return covering < allPostings * COST.exhaustivePosting * MARGIN;
}
