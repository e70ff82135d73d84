import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseQuery, queryCacheKey, queryJobId } from './query-key.js';

describe('query cache key', () => {
  it('treats case and whitespace variants of a question as the same request', () => {
    const a = normaliseQuery('  How do I   reset\tmy PASSWORD?\n');
    const b = normaliseQuery('how do i reset my password?');
    assert.equal(a, b);
    assert.equal(
      queryCacheKey(3, { query: a, topK: 5, collection: null }),
      queryCacheKey(3, { query: b, topK: 5, collection: null }),
    );
  });

  it('case-folds Cyrillic too', () => {
    assert.equal(normaliseQuery('Как СБРОСИТЬ пароль'), 'как сбросить пароль');
  });

  it('separates requests that differ in top_k, collection or corpus version', () => {
    const base = { query: 'reset password', topK: 5, collection: null };
    const keys = new Set([
      queryCacheKey(1, base),
      queryCacheKey(1, { ...base, topK: 6 }),
      queryCacheKey(1, { ...base, collection: 'default' }),
      queryCacheKey(2, base),
    ]);
    assert.equal(keys.size, 4);
  });

  it('starts with the corpus version and derives a BullMQ-safe job id', () => {
    const key = queryCacheKey(42, { query: 'x', topK: 1, collection: 'docs' });
    assert.match(key, /^42:[0-9a-f]{64}$/);
    assert.match(queryJobId(key), /^q-42-[0-9a-f]{64}$/);
  });
});
