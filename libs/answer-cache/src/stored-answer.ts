import type { QuerySource } from '#libs/contracts';

export interface CachedAnswer {
  answer: string;
  sources: QuerySource[];
}

/**
 * An answer as Redis holds it under its cache key: `{"answer":…,"sources":[…]}`. Gateways splice
 * its members into responses as text (apps/gateway/src/query/query-response.ts), so this format
 * is shared by every writer and reader.
 */
export function storedAnswerJson(value: CachedAnswer): string {
  return JSON.stringify({ answer: value.answer, sources: value.sources });
}
