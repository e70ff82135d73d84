import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '#libs/redis';
import { createApiKey } from './support/api-keys.js';
import type { RunningGateway } from './support/gateway.js';
import { waitFor, type TestEnvironment } from './support/test-environment.js';
import { startWholeSystem, type WholeSystem } from './support/whole-system.js';

/**
 * Redis Cluster keeps a BullMQ queue working only when all of its keys hash to one slot, which a
 * `{hash tag}` prefix guarantees. This runs the whole system under such a prefix and checks that
 * every key it wrote starts with the tag, so that on a cluster they all land in one slot.
 */
describe('a hash-tagged REDIS_KEY_PREFIX ({...}, for Redis Cluster)', () => {
  const prefix = `{rt_${randomBytes(4).toString('hex')}}`;
  let system: WholeSystem;
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let auth: { authorization: string };

  before(async () => {
    system = await startWholeSystem({ REDIS_KEY_PREFIX: prefix });
    ({ env, gateway } = system);
    auth = { authorization: `Bearer ${await createApiKey(env.config)}` };
  });
  after(() => system?.close());

  it('uploads, indexes and answers, and every key it wrote carries the hash tag', async () => {
    assert.equal(env.config.REDIS_KEY_PREFIX, prefix);
    const upload = await fetch(`${gateway.baseUrl}/documents`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Cluster notes',
        content: 'Hash tags put related keys into one slot of a Redis Cluster.',
      }),
    });
    assert.equal(upload.status, 202, await upload.clone().text());
    const { id } = (await upload.json()) as { id: string };

    await waitFor(
      async () => {
        const response = await fetch(`${gateway.baseUrl}/documents/${id}`, { headers: auth });
        const { status } = (await response.json()) as { status: string };
        if (status === 'failed') throw new Error(`document ${id} failed`);
        return status === 'indexed' ? status : undefined;
      },
      { what: `document ${id} indexed`, timeoutMs: 30_000 },
    );

    const ask = () =>
      fetch(`${gateway.baseUrl}/query`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'which slot do hash tags choose?' }),
      });
    const miss = await ask();
    assert.equal(miss.status, 200, await miss.clone().text());
    assert.equal(((await miss.json()) as { sources: { document_id: string }[] }).sources[0]?.document_id, id);
    // The gateway may hear of the document's corpus version just after the first answer: ask until
    // an answer comes from the cache, so a cached answer exists under the prefix.
    await waitFor(async () => ((await ask()).headers.get('x-cache') === 'HIT' ? true : undefined), {
      what: 'a cached answer',
    });

    const redis = new Redis(redisOptionsFromUrl(env.config.REDIS_URL));
    try {
      // Every key of this run, wherever in the key its id appears: all must start with the tag.
      const runId = prefix.slice(1, -1);
      const keys: string[] = [];
      for await (const batch of redis.scanStream({ match: `*${runId}*`, count: 1000 }) as AsyncIterable<
        string[]
      >) {
        keys.push(...batch);
      }
      const outside = keys.filter((key) => !key.startsWith(`${prefix}:`));
      assert.deepEqual(outside, [], 'keys written without the hash-tagged prefix');
      for (const expected of [`${prefix}:bull:ingest:`, `${prefix}:corpus:`, `${prefix}:qcache:`]) {
        assert.ok(
          keys.some((key) => key.startsWith(expected)),
          `no key under ${expected}: ${keys.join(', ')}`,
        );
      }
    } finally {
      await redis.quit();
    }
  });
});
