import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CorpusStats } from '#libs/database';
import { CorpusStatsCache } from './corpus-stats-cache.js';

function harness() {
  let loads = 0;
  const cache = new CorpusStatsCache((): Promise<CorpusStats> => {
    loads++;
    return Promise.resolve({ chunkCount: loads, averageChunkLength: 1, configs: ['english'] });
  });
  return { cache, loads: () => loads };
}

describe('CorpusStatsCache', () => {
  it('reads once while the corpus version stays the same', async () => {
    const h = harness();
    await h.cache.get(1);
    const stats = await h.cache.get(1);
    assert.equal(stats.chunkCount, 1);
    assert.equal(h.loads(), 1);
  });

  it('re-reads at once on a new corpus version, so no answer is computed from an older corpus', async () => {
    const h = harness();
    await h.cache.get(1);
    assert.equal((await h.cache.get(2)).chunkCount, 2);
    assert.equal((await h.cache.get(3)).chunkCount, 3);
    assert.equal(h.loads(), 3);
  });

  it('shares one read among concurrent callers of the same version', async () => {
    const h = harness();
    const all = await Promise.all([h.cache.get(7), h.cache.get(7), h.cache.get(7)]);
    assert.deepEqual(
      all.map((stats) => stats.chunkCount),
      [1, 1, 1],
    );
    assert.equal(h.loads(), 1);
  });
});
