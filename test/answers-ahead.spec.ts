import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AnswerDemand, normaliseQuery } from '#libs/answer-cache';
import { parseTenantId, RedisKey, type TenantId } from '#libs/contracts';
import { CorpusVersion } from '#libs/corpus';
import { RedisClient } from '#libs/redis';
import { ApiClient } from './support/api-client.js';
import { createApiKey } from './support/api-keys.js';
import { waitFor } from './support/test-environment.js';
import { startWholeSystem, type WholeSystem } from './support/whole-system.js';

/**
 * Answers computed ahead of a publication (docs/adr/0031-answers-computed-ahead-of-a-publication.md):
 * versions can be reserved before they are published, questions asked under more than one
 * version are hot, and a publication answers the hot ones under its new version first, so they
 * are cache hits at once and still answered from the documents it published.
 */
describe('answers computed ahead of a publication', () => {
  let system: WholeSystem;
  let api: ApiClient;
  let versions: CorpusVersion;
  let demand: AnswerDemand;
  let redis: RedisClient;

  before(async () => {
    system = await startWholeSystem({
      INGEST_PUBLISH_INTERVAL_MS: '50',
      // Long enough that a busy machine cannot turn the hits asserted below into misses; the
      // wait ends as soon as the answers are stored.
      CACHE_WARM_WAIT_MS: '5000',
    });
    api = new ApiClient(system.gateway.baseUrl, await createApiKey(system.env.config));
    const ingestWorker = system.workers[0];
    versions = ingestWorker.get(CorpusVersion);
    demand = ingestWorker.get(AnswerDemand);
    redis = ingestWorker.get(RedisClient);
  });
  after(() => system?.close());

  /** What the gateway processes key their caches with: the published version, read afresh. */
  async function publishedVersion(tenant: TenantId): Promise<number> {
    const reader = new CorpusVersion(redis);
    await reader.refresh();
    return reader.current(tenant);
  }

  describe('corpus versions', () => {
    it('hands out a reserved version without publishing it, and never publishes backwards', async () => {
      const tenant = parseTenantId('versions-a');
      const first = await versions.bump(tenant, 0);
      const reserved = await versions.reserve(tenant, 0);
      assert.equal(reserved, first + 1);
      assert.equal(await publishedVersion(tenant), first, 'a reserved version is not yet published');

      // A delete published meanwhile takes the next version; publishing the reserved one after it
      // must not move the tenant back to a version that may not reflect the delete.
      const deleted = await versions.bump(tenant, 0);
      assert.equal(deleted, reserved + 1);
      await versions.publish(tenant, reserved);
      assert.equal(await publishedVersion(tenant), deleted);
    });

    it('continues from the published version when none was reserved before (an upgraded deployment)', async () => {
      const tenant = parseTenantId('versions-b');
      await redis.hset(RedisKey.CorpusVersions, tenant, '41');
      assert.equal(await versions.reserve(tenant, 0), 42);
    });
  });

  describe('demand', () => {
    const ask = (query: string) => ({ query: normaliseQuery(query), topK: 5, collection: null });

    it('counts a question as hot only once it is asked under a newer version than before', async () => {
      const tenant = parseTenantId('demand-a');
      await demand.note(tenant, 10, ask('once only'));
      await demand.note(tenant, 10, ask('twice, same version'));
      await demand.note(tenant, 10, ask('twice, same version'));
      await demand.note(tenant, 10, ask('across versions'));
      await demand.note(tenant, 11, ask('across versions'));
      assert.deepEqual(await demand.hottest(tenant, 0, 10), [ask('across versions')]);
    });

    it('returns the most recently asked first, from the given version on, at most the limit', async () => {
      const tenant = parseTenantId('demand-b');
      for (const [question, versionsAsked] of [
        ['old', [1, 2]],
        ['recent', [1, 5]],
        ['newest', [3, 6]],
      ] as const) {
        for (const version of versionsAsked) await demand.note(tenant, version, ask(question));
      }
      assert.deepEqual(await demand.hottest(tenant, 3, 10), [ask('newest'), ask('recent')]);
      assert.deepEqual(await demand.hottest(tenant, 0, 1), [ask('newest')]);
    });
  });

  describe('a publication', () => {
    /** Uploads a document and waits until its status says `indexed`. */
    async function upload(title: string, content: string): Promise<string> {
      const id = await api.upload(title, content);
      await waitFor(async () => ((await api.status(id)) === 'indexed' ? true : undefined), {
        timeoutMs: 30_000,
        what: `"${title}" to be indexed`,
      });
      return id;
    }
    it('answers a hot question from the cache at once, and from the document it published', async () => {
      const question = 'where do pangolins sleep';
      assert.deepEqual(await api.ask(question), { cache: 'MISS', sources: [] });

      await upload('Tides', 'The tide tables for the harbour are printed every spring.');
      assert.deepEqual(
        await api.ask(question),
        { cache: 'MISS', sources: [] },
        'asked under one version only, the question was not answered ahead',
      );

      const pangolins = await upload('Pangolins', 'Pangolins sleep in burrows during the day.');
      assert.deepEqual(
        await api.ask(question),
        { cache: 'HIT', sources: [pangolins] },
        'asked under two versions, it was answered under the new one before it was published',
      );
    });
  });
});
