import type { Bm25Parameters } from '../repositories/search.repository.js';

/**
 * Reference parameters of a posting's impact key, (1 − b₀ + b₀·dl/L₀) / tf: the smaller the key,
 * the larger the posting's BM25 weight at b = b₀ and avgdl = L₀. `term_df.best_key` keeps each
 * term's smallest (migration 1764600000000). b₀ is the tuned b (DEFAULT_BM25); L₀ is about the
 * mean length of a default-sized chunk. The bound below holds for any k1, b and avgdl; it is
 * tightest near the reference.
 */
export const IMPACT_KEY_REFERENCE = { b: 0.4, averageLength: 128 } as const;

/**
 * λ such that, for every posting, BM25's term weight tf·(k1+1) / (tf + k1·(1 − b + b·dl/avgdl))
 * is at most (k1+1) / (1 + λ·key).
 *
 * Why: the weight is (k1+1) / (1 + k1·(1 − b)/tf + k1·b·dl/(avgdl·tf)); each of those two terms is
 * at least λ times its counterpart in the key, (1 − b₀)/tf and b₀·dl/(L₀·tf), when λ is the
 * smaller of the two ratios. So no posting of a term weighs more than this gives for its best key.
 */
export function impactBoundSlope(bm25: Bm25Parameters, averageChunkLength: number): number {
  const { b: b0, averageLength: l0 } = IMPACT_KEY_REFERENCE;
  const lengthFree = (bm25.k1 * (1 - bm25.b)) / (1 - b0);
  const lengthScaled = averageChunkLength > 0 ? (bm25.k1 * bm25.b * l0) / (b0 * averageChunkLength) : 0;
  // Shaved a little so that rounding in the key's arithmetic can never overstate it.
  return Math.max(0, Math.min(lengthFree, lengthScaled) * (1 - 1e-9));
}
