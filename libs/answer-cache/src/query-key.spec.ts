import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_TENANT, parseTenantId } from '#libs/contracts';
import { normaliseQuery, queryCacheKey, queryJobId } from './query-key.js';

const tenant = DEFAULT_TENANT;

describe('query cache key', () => {
  it('treats case and whitespace variants of a question as the same request', () => {
    const a = normaliseQuery('  How do I   reset\tmy PASSWORD?\n');
    const b = normaliseQuery('how do i reset my password?');
    assert.equal(a, b);
    assert.equal(
      queryCacheKey(tenant, 3, { query: a, topK: 5, collection: null }),
      queryCacheKey(tenant, 3, { query: b, topK: 5, collection: null }),
    );
  });

  it('case-folds Cyrillic too', () => {
    assert.equal(normaliseQuery('Как СБРОСИТЬ пароль'), 'как сбросить пароль');
  });

  it('separates requests that differ in tenant, top_k, collection or corpus version', () => {
    const base = { query: 'reset password', topK: 5, collection: null };
    const keys = new Set([
      queryCacheKey(tenant, 1, base),
      queryCacheKey(parseTenantId('acme'), 1, base),
      queryCacheKey(tenant, 1, { ...base, topK: 6 }),
      queryCacheKey(tenant, 1, { ...base, collection: 'default' }),
      queryCacheKey(tenant, 2, base),
    ]);
    assert.equal(keys.size, 5);
  });

  it('starts with the tenant and its corpus version and derives a BullMQ-safe job id', () => {
    const key = queryCacheKey(parseTenantId('team-a'), 42, { query: 'x', topK: 1, collection: 'docs' });
    assert.match(key, /^team-a:42:[0-9a-f]{64}$/);
    assert.match(queryJobId(key), /^q-team-a-42-[0-9a-f]{64}$/);
    assert.ok(!queryJobId(key).includes(':'));
  });
});
