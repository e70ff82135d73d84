/** A sentence of a retrieved chunk, with the query lexemes it contains. */
export interface SentenceCandidate {
  /** Rank of its chunk in the results, 0 first. */
  chunkRank: number;
  /** Position within the chunk. */
  index: number;
  text: string;
  /** Query lexemes found in the sentence (analysed with its chunk's configuration). */
  matched: ReadonlySet<string>;
}

export interface CompositionLimits {
  maxSentences: number;
  maxChars: number;
}

export const DEFAULT_COMPOSITION_LIMITS: CompositionLimits = { maxSentences: 3, maxChars: 600 };

export const NO_MATCH_ANSWER = 'No indexed document matches the question.';

/** Each rank down weighs a sentence a little less, so the best chunk speaks first. */
const RANK_DECAY = 0.25;
/** A lexeme a chosen sentence already covers still counts, but much less: prefer new information. */
const COVERED_WEIGHT = 0.2;

/**
 * Picks the sentences that best answer the question: greedily, by the idf weight of the query
 * lexemes each one adds, discounted by its chunk's rank. A sentence that adds no new lexeme is
 * taken only right after a chosen one (it usually carries on its thought). The choice goes back
 * into reading order (chunk rank, then position) so that each sentence keeps its sense.
 */
export function selectSentences(
  candidates: readonly SentenceCandidate[],
  idf: ReadonlyMap<string, number>,
  limits: CompositionLimits = DEFAULT_COMPOSITION_LIMITS,
): SentenceCandidate[] {
  const covered = new Set<string>();
  const chosen: SentenceCandidate[] = [];
  const seen = new Set<string>();
  const pool = candidates.filter((candidate) => candidate.matched.size > 0);
  let chars = 0;
  while (chosen.length < limits.maxSentences) {
    let best: SentenceCandidate | undefined;
    let bestGain = 0;
    for (const candidate of pool) {
      // Overlapping chunks repeat sentences; long ones are left for a shorter choice.
      if (seen.has(candidate.text)) continue;
      const length = Math.min(candidate.text.length, limits.maxChars);
      if (chosen.length > 0 && chars + 1 + length > limits.maxChars) continue;
      let fresh = 0;
      let repeated = 0;
      for (const lexeme of candidate.matched) {
        const weight = idf.get(lexeme) ?? 0;
        if (covered.has(lexeme)) repeated += weight;
        else fresh += weight;
      }
      // A sentence adding no new term earns its place only as the continuation of a chosen one.
      if (
        fresh === 0 &&
        !chosen.some((c) => c.chunkRank === candidate.chunkRank && c.index === candidate.index - 1)
      )
        continue;
      const gain = (fresh + COVERED_WEIGHT * repeated) / (1 + RANK_DECAY * candidate.chunkRank);
      if (gain > bestGain) {
        best = candidate;
        bestGain = gain;
      }
    }
    if (best === undefined) break;
    chosen.push(best);
    seen.add(best.text);
    for (const lexeme of best.matched) covered.add(lexeme);
    chars += (chosen.length > 1 ? 1 : 0) + Math.min(best.text.length, limits.maxChars);
  }
  return chosen.sort((a, b) => a.chunkRank - b.chunkRank || a.index - b.index);
}

/** Cuts at a word boundary and marks the cut. */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > maxChars / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The extractive answer: the chosen sentences, or the passage's opening when none names a query term. */
export function composeAnswer(
  candidates: readonly SentenceCandidate[],
  idf: ReadonlyMap<string, number>,
  limits: CompositionLimits = DEFAULT_COMPOSITION_LIMITS,
): string {
  if (candidates.length === 0) return NO_MATCH_ANSWER;
  const chosen = selectSentences(candidates, idf, limits);
  if (chosen.length === 0) {
    const opening = candidates.filter((candidate) => candidate.chunkRank === 0).map((c) => c.text);
    return truncate(opening.join(' '), limits.maxChars);
  }
  return chosen.map((sentence) => truncate(sentence.text, limits.maxChars)).join(' ');
}
