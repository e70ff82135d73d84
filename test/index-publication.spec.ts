import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_TENANT } from '#libs/contracts';
import { CorpusVersion } from '#libs/corpus';
import { ApiClient } from './support/api-client.js';
import { createApiKey } from './support/api-keys.js';
import type { RunningGateway } from './support/gateway.js';
import { waitFor } from './support/test-environment.js';
import { startWholeSystem, type WholeSystem } from './support/whole-system.js';

const PUBLISH_INTERVAL_MS = 400;
const BATCH = 12;

/**
 * Coalesced publication (docs/adr/0026-coalesced-corpus-versions.md): documents indexed close
 * together share one corpus version bump, and a document is still visible to queries from the
 * moment its status says `indexed`, even when the question was cached just before.
 */
describe('publishing indexed documents', () => {
  let system: WholeSystem;
  let gateway: RunningGateway;
  let api: ApiClient;

  before(async () => {
    system = await startWholeSystem({
      INGEST_PUBLISH_INTERVAL_MS: String(PUBLISH_INTERVAL_MS),
      INGEST_CONCURRENCY: '4',
    });
    gateway = system.gateway;
    api = new ApiClient(gateway.baseUrl, await createApiKey(system.env.config));
  });
  after(() => system?.close());

  const version = (): number => gateway.app.get(CorpusVersion).current(DEFAULT_TENANT);

  it('answers from a document as soon as it says indexed, though the question was cached before it', async () => {
    for (const word of ['zebrafinch', 'quetzal', 'axolotl']) {
      const question = `what about the ${word}`;
      assert.deepEqual((await api.ask(question)).sources, [], 'nothing matches yet');
      assert.equal((await api.ask(question)).cache, 'HIT', 'the empty answer is cached');

      const id = await api.upload(
        `About the ${word}`,
        `The ${word} is the subject of this note about the ${word}.`,
      );
      await waitFor(async () => ((await api.status(id)) === 'indexed' ? true : undefined), {
        timeoutMs: 30_000,
        what: `${word} to be indexed`,
      });
      const answer = await api.ask(question);
      assert.equal(answer.cache, 'MISS', 'the cached answer belongs to an older corpus version');
      assert.deepEqual(answer.sources, [id]);
    }
  });

  it('bumps the corpus version fewer times than documents indexed together', async (t) => {
    // The tenant's first version is a timestamp (corpus-version.ts); count from the test above's.
    const before = version();
    assert.ok(before > 0, 'the tenant has a corpus version already');
    const ids = await Promise.all(
      Array.from({ length: BATCH }, (_, i) =>
        api.upload(`Batch ${i}`, `Lighthouse keeper number ${i} logs the weather every night.`),
      ),
    );
    await waitFor(
      async () =>
        (await Promise.all(ids.map((id) => api.status(id)))).every((s) => s === 'indexed') ? true : undefined,
      {
        timeoutMs: 60_000,
        what: 'the batch to be indexed',
      },
    );
    const bumps = version() - before;
    assert.ok(bumps >= 1, 'the batch was published');
    assert.ok(bumps < BATCH, `${bumps} version bumps for ${BATCH} documents`);
    t.diagnostic(
      `${BATCH} documents indexed with ${bumps} corpus version bumps (interval ${PUBLISH_INTERVAL_MS} ms)`,
    );
  });
});
