/** The requests the benchmarks send, shaped as the k6 scripts send them (loadtest/k6/). */
export interface RequestSpec {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** JSON body for the given user and iteration. */
  body?: (user: number, iteration: number) => string;
}

/** Questions of the original plan's workload: few and repeated, so most queries are cache hits. */
export const HOT_QUESTIONS: readonly string[] = [
  'how do I reset my password?',
  'what is the refund policy?',
  'how to configure single sign-on',
  'which file formats can I upload?',
  'how long are documents kept?',
  'как восстановить пароль?',
  'what are the API rate limits?',
  'how do I delete my account?',
  'where can I see my invoices?',
  'how to add a team member',
];

export type QueryMix = 'hot' | 'unique';

export function querySpec(mix: QueryMix, topK = 5): RequestSpec {
  return {
    name: 'query',
    method: 'POST',
    path: '/query',
    body: (user, iteration) => {
      const question = HOT_QUESTIONS[(user + iteration) % HOT_QUESTIONS.length] ?? 'password';
      // A unique suffix defeats the cache, to measure the miss path (query worker, BM25 in SQL).
      const query = mix === 'unique' ? `${question} ${user}x${iteration}` : question;
      return JSON.stringify({ query, top_k: topK });
    },
  };
}

export function requestSpec(name: string, mix: QueryMix): RequestSpec {
  switch (name) {
    case 'health':
      return { name, method: 'GET', path: '/health' };
    case 'live':
      return { name, method: 'GET', path: '/health/live' };
    case 'documents':
      return { name, method: 'GET', path: '/documents' };
    case 'query':
      return querySpec(mix);
    default:
      throw new Error(`unknown request "${name}": use health, live, documents or query`);
  }
}

/** k6's convention: virtual user N (1-based) sends test-load-token-((N - 1) % count + 1). */
export function tokenFor(userIndex: number, options: { token?: string; tokenCount: number }): string {
  return options.token ?? `test-load-token-${(userIndex % options.tokenCount) + 1}`;
}

export function parseQueryMix(value: string): QueryMix {
  if (value !== 'hot' && value !== 'unique') throw new Error('--queries is hot or unique');
  return value;
}

/** A positive number from an option, or a clear error naming the option. */
export function positive(name: string, value: string | undefined): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number`);
  return parsed;
}
