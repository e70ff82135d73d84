import { createHash } from 'node:crypto';
import type { TenantId } from '#libs/contracts';

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
 * `${tenant}:${corpusVersion}:${sha256}` of the normalised request. Tenants never share an answer
 * (the same question over different documents), and a new corpus version of the tenant gives each
 * of its questions a new key, so stale answers are simply never addressed again.
 * `request.query` must already be normalised.
 */
export function queryCacheKey(tenant: TenantId, corpusVersion: number, request: QueryRequest): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([request.query, request.topK, request.collection]))
    .digest('hex');
  return `${tenant}:${corpusVersion}:${digest}`;
}

/**
 * BullMQ rejects custom job ids containing ':'; the id still identifies the request across
 * processes (read from the right, the version and digest hold no '-', so tenants cannot collide).
 */
export function queryJobId(cacheKey: string): string {
  return `q-${cacheKey.replaceAll(':', '-')}`;
}
