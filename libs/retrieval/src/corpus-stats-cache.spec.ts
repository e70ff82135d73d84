import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CorpusStats } from '#libs/database';
import { CorpusStatsCache } from './corpus-stats-cache.js';

function harness() {
  let clock = 10_000;
  let loads = 0;
  const cache = new CorpusStatsCache(
    (): Promise<CorpusStats> => {
      loads++;
      return Promise.resolve({ chunkCount: loads, averageChunkLength: 1, configs: ['english'] });
    },
    () => clock,
    1_000,
  );
  return {
    cache,
    loads: () => loads,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('CorpusStatsCache', () => {
  it('reads once while the corpus version stays the same', async () => {
    const h = harness();
    await h.cache.get(1);
    h.advance(5_000);
    const stats = await h.cache.get(1);
    assert.equal(stats.chunkCount, 1);
    assert.equal(h.loads(), 1);
  });

  it('re-reads on a new corpus version, but at most once per interval', async () => {
    const h = harness();
    await h.cache.get(1);
    h.advance(200);
    assert.equal((await h.cache.get(2)).chunkCount, 1, 'within the interval the old stats serve');
    h.advance(1_000);
    assert.equal((await h.cache.get(2)).chunkCount, 2);
    assert.equal(h.loads(), 2);
  });

  it('shares one read among concurrent callers', async () => {
    const h = harness();
    const all = await Promise.all([h.cache.get(7), h.cache.get(7), h.cache.get(7)]);
    assert.deepEqual(
      all.map((stats) => stats.chunkCount),
      [1, 1, 1],
    );
    assert.equal(h.loads(), 1);
  });
});
