import { createHash } from 'node:crypto';

export interface QueryRequest {
  query: string;
  topK: number;
  collection: string | null;
}

/**
 * What a question means for retrieval: surrounding and repeated whitespace, letter case and
 * Unicode compatibility forms do not change the answer, so they must not split the cache.
 */
export function normaliseQuery(query: string): string {
  return query.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * `${corpusVersion}:${sha256}` of the normalised request. A new corpus version gives every
 * question a new key, so stale answers are simply never addressed again.
 * `request.query` must already be normalised.
 */
export function queryCacheKey(corpusVersion: number, request: QueryRequest): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([request.query, request.topK, request.collection]))
    .digest('hex');
  return `${corpusVersion}:${digest}`;
}

/** BullMQ rejects custom job ids containing ':'; the id still identifies the request across processes. */
export function queryJobId(cacheKey: string): string {
  return `q-${cacheKey.replace(':', '-')}`;
}
