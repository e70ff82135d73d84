import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { QueueName, type IngestDocumentPayload } from '#libs/contracts';
import { bullPrefix } from '#libs/queues';
import { redisOptionsFromUrl } from '#libs/redis';
import { createApiKey } from './support/api-keys.js';
import type { RunningGateway } from './support/gateway.js';
import { waitFor, type TestEnvironment } from './support/test-environment.js';
import { startWholeSystem, type WholeSystem } from './support/whole-system.js';

interface Accepted {
  id: string;
  status: string;
  collection: string;
}
interface ListPage {
  items: { id: string; title: string; collection: string }[];
  next_cursor: string | null;
}
interface QueryAnswer {
  answer: string;
  sources: { document_id: string; title: string; snippet: string }[];
  cached: boolean;
}
interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/** Both tenants file their documents under the same collection name. */
const COLLECTION = 'handbook';

/**
 * Two tenants on one real system (gateway, ingest worker, query worker, Postgres, Redis), each
 * with a real key. Every route of API.md is tried with the other tenant's key, and every answer is
 * checked for the other tenant's documents, ids, titles and text.
 */
describe('tenant isolation', () => {
  let system: WholeSystem;
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let ingestQueue: Queue<IngestDocumentPayload>;
  const keys = { alpha: '', beta: '' };
  /** Each tenant's documents: a shared subject (passwords), and one only it writes about. */
  const docs = { alpha: { shared: '', own: '' }, beta: { shared: '', own: '' } };

  before(async () => {
    system = await startWholeSystem();
    ({ env, gateway } = system);
    keys.alpha = await createApiKey(env.config, { tenant: 'alpha' });
    keys.beta = await createApiKey(env.config, { tenant: 'beta' });
    ingestQueue = new Queue<IngestDocumentPayload>(QueueName.Ingest, {
      connection: redisOptionsFromUrl(env.config.REDIS_URL),
      prefix: bullPrefix(env.config),
    });

    docs.alpha.shared = await upload('alpha', {
      title: 'Alpha password guide',
      content: 'To reset your password, open the alpha portal settings and press the reset button.',
    });
    docs.alpha.own = await upload('alpha', {
      title: 'Alpha volcano notes',
      content: 'The volcano erupted; magma and basalt flowed down the caldera slopes.',
    });
    docs.beta.shared = await upload('beta', {
      title: 'Beta password guide',
      content: 'To reset your password, call the beta helpdesk and ask for a reset code.',
    });
    docs.beta.own = await upload('beta', {
      title: 'Beta glacier survey',
      content: 'The glacier retreated; meltwater carved moraines across the tundra.',
    });
    for (const tenant of ['alpha', 'beta'] as const) {
      for (const id of Object.values(docs[tenant])) await waitIndexed(tenant, id);
    }
  });

  after(async () => {
    await ingestQueue?.close();
    await system?.close();
  });

  type Tenant = keyof typeof keys;
  const other = (tenant: Tenant): Tenant => (tenant === 'alpha' ? 'beta' : 'alpha');

  function call(tenant: Tenant, path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${gateway.baseUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${keys[tenant]}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  }

  async function upload(tenant: Tenant, body: Record<string, unknown>, headers = {}): Promise<string> {
    const response = await call(tenant, '/documents', {
      method: 'POST',
      body: JSON.stringify({ collection: COLLECTION, ...body }),
      headers,
    });
    assert.equal(response.status, 202, await response.clone().text());
    return ((await response.json()) as Accepted).id;
  }

  async function waitIndexed(tenant: Tenant, id: string): Promise<void> {
    await waitFor(
      async () => {
        const response = await call(tenant, `/documents/${id}`);
        return ((await response.json()) as { status: string }).status === 'indexed' ? true : undefined;
      },
      { timeoutMs: 30_000, what: `document ${id} of ${tenant} to be indexed` },
    );
  }

  async function ask(tenant: Tenant, query: string, extra: Record<string, unknown> = {}) {
    const response = await call(tenant, '/query', {
      method: 'POST',
      body: JSON.stringify({ query, ...extra }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return { cache: response.headers.get('x-cache'), body: (await response.json()) as QueryAnswer };
  }

  /** Nothing in a response body may name the other tenant's documents: ids, titles or text. */
  function assertNothingOf(tenant: Tenant, text: string): void {
    for (const id of Object.values(docs[tenant])) assert.ok(!text.includes(id), `leaks ${tenant}'s ${id}`);
    for (const word of [
      tenant === 'alpha' ? 'Alpha' : 'Beta',
      tenant,
      tenant === 'alpha' ? 'magma' : 'glacier',
    ]) {
      assert.ok(!text.toLowerCase().includes(word.toLowerCase()), `leaks "${word}" of ${tenant}: ${text}`);
    }
  }

  for (const tenant of ['alpha', 'beta'] as const) {
    const foreign = other(tenant);

    it(`GET /documents with ${tenant}'s key lists only ${tenant}'s documents, in every filter`, async () => {
      for (const query of ['', `?collection=${COLLECTION}`, '?status=indexed', '?limit=1']) {
        const response = await call(tenant, `/documents${query}`);
        assert.equal(response.status, 200);
        const text = await response.text();
        assertNothingOf(foreign, text);
        const page = JSON.parse(text) as ListPage;
        for (const item of page.items) assert.ok(Object.values(docs[tenant]).includes(item.id), item.id);
      }
      const all = (await (await call(tenant, '/documents?limit=100')).json()) as ListPage;
      assert.deepEqual(new Set(all.items.map((item) => item.id)), new Set(Object.values(docs[tenant])));
    });

    it(`GET /documents/{id} of ${foreign}'s document with ${tenant}'s key answers 404, exactly like a missing one`, async () => {
      const missing = await call(tenant, '/documents/00000000-0000-4000-8000-000000000000');
      const missingBody = (await missing.json()) as ErrorBody;
      for (const id of Object.values(docs[foreign])) {
        const response = await call(tenant, `/documents/${id}`);
        assert.equal(response.status, 404);
        const body = (await response.json()) as ErrorBody;
        assert.equal(body.message, missingBody.message.replace('00000000-0000-4000-8000-000000000000', id));
        assert.equal(body.error, missingBody.error);
      }
    });

    it(`DELETE /documents/{id} of ${foreign}'s document with ${tenant}'s key answers 404 and deletes nothing`, async () => {
      for (const id of Object.values(docs[foreign])) {
        const response = await call(tenant, `/documents/${id}`, { method: 'DELETE' });
        assert.equal(response.status, 404);
        assertNothingOf(foreign, await response.text().then((text) => text.replace(id, '')));
        assert.equal((await call(foreign, `/documents/${id}`)).status, 200, 'still there for its owner');
      }
    });

    it(`POST /query with ${tenant}'s key never cites ${foreign}'s documents, even for a question only they answer`, async () => {
      const onlyForeign =
        foreign === 'alpha'
          ? 'what erupted from the volcano caldera magma'
          : 'why did the glacier retreat into moraines';
      const answered = await ask(foreign, onlyForeign);
      assert.deepEqual(
        answered.body.sources.map((source) => source.document_id),
        [docs[foreign].own],
        'its owner finds it',
      );
      for (const extra of [{}, { collection: COLLECTION }, { top_k: 50 }]) {
        const { body } = await ask(tenant, onlyForeign, extra);
        assert.deepEqual(body.sources, [], JSON.stringify(body));
        // The question itself is echoed back; everything else must hold nothing of the other tenant.
        assertNothingOf(foreign, JSON.stringify({ ...body, query: undefined }));
      }
    });
  }

  it("answers the same question from each tenant with its own documents, and never serves one tenant the other's cached answer", async () => {
    const question = 'How do I reset my password?';
    const alphaFirst = await ask('alpha', question);
    assert.equal(alphaFirst.cache, 'MISS');
    assert.equal(alphaFirst.body.sources[0]?.document_id, docs.alpha.shared);
    assert.equal((await ask('alpha', question)).cache, 'HIT');

    // The same normalised question, top_k and collection: only the tenant differs.
    const betaFirst = await ask('beta', question);
    assert.equal(betaFirst.cache, 'MISS', 'beta must not hit alpha cached answer');
    assert.equal(betaFirst.body.sources[0]?.document_id, docs.beta.shared);
    assertNothingOf('alpha', JSON.stringify(betaFirst.body));
    assertNothingOf('beta', JSON.stringify(alphaFirst.body));
    assert.notEqual(alphaFirst.body.answer, betaFirst.body.answer);
    const betaAgain = await ask('beta', question);
    assert.equal(betaAgain.cache, 'HIT');
    assert.deepEqual(betaAgain.body.sources, betaFirst.body.sources);
  });

  it("keeps each tenant's cached answers when only the other tenant's corpus changes", async () => {
    const question = 'reset password portal helpdesk';
    await ask('alpha', question);
    await ask('beta', question);
    const extra = await upload('beta', {
      title: 'Beta extra',
      content: 'Beta helpdesk hours are nine to five.',
    });
    await waitIndexed('beta', extra);
    await waitFor(async () => ((await ask('beta', question)).cache === 'MISS' ? true : undefined), {
      what: "beta's corpus version to move",
    });
    assert.equal(
      (await ask('alpha', question)).cache,
      'HIT',
      "beta's upload must not retire alpha's answers",
    );
    assert.equal((await call('beta', `/documents/${extra}`, { method: 'DELETE' })).status, 204);
  });

  it("treats an Idempotency-Key as the tenant's own: the other tenant's repeat creates its own document", async () => {
    const idempotencyKey = 'upload-2026-11-30-0001';
    const alphaId = await upload(
      'alpha',
      { title: 'Alpha once', content: 'alpha idempotent' },
      { 'idempotency-key': idempotencyKey },
    );
    const repeat = await call('alpha', '/documents', {
      method: 'POST',
      body: JSON.stringify({ title: 'Alpha once', content: 'alpha idempotent' }),
      headers: { 'idempotency-key': idempotencyKey },
    });
    assert.equal(repeat.status, 200);
    assert.equal(((await repeat.json()) as Accepted).id, alphaId);

    const betaResponse = await call('beta', '/documents', {
      method: 'POST',
      body: JSON.stringify({ title: 'Beta once', content: 'beta idempotent' }),
      headers: { 'idempotency-key': idempotencyKey },
    });
    assert.equal(betaResponse.status, 202, 'a new document, not alpha one');
    const betaId = ((await betaResponse.json()) as Accepted).id;
    assert.notEqual(betaId, alphaId);
    assert.equal((await call('beta', `/documents/${alphaId}`)).status, 404);
    for (const [tenant, id] of [
      ['alpha', alphaId],
      ['beta', betaId],
    ] as const) {
      await waitIndexed(tenant, id);
      assert.equal((await call(tenant, `/documents/${id}`, { method: 'DELETE' })).status, 204);
    }
  });

  it('keeps colliding collection names apart: each tenant filters its own collection', async () => {
    for (const tenant of ['alpha', 'beta'] as const) {
      const page = (await (
        await call(tenant, `/documents?collection=${COLLECTION}&limit=100`)
      ).json()) as ListPage;
      assert.deepEqual(new Set(page.items.map((item) => item.id)), new Set(Object.values(docs[tenant])));
      assert.ok(page.items.every((item) => item.collection === COLLECTION));
    }
  });

  it('puts the tenant in every ingest job payload, where the queue dashboard shows it', async () => {
    const id = await upload('beta', { title: 'Beta payload', content: 'payload check' });
    const job = await ingestQueue.getJob(id);
    assert.equal(job?.data.tenant, 'beta');
    await waitIndexed('beta', id);
    assert.equal((await call('beta', `/documents/${id}`, { method: 'DELETE' })).status, 204);
  });

  it('retires a deleted document from its own tenant only: the other tenant never sees or loses anything', async () => {
    const question = 'volcano magma basalt';
    const before = await ask('alpha', question);
    assert.equal(before.body.sources[0]?.document_id, docs.alpha.own);
    const id = await upload('beta', {
      title: 'Beta volcano',
      content: 'Beta also saw a volcano with magma and basalt.',
    });
    await waitIndexed('beta', id);
    const betaSees = await ask('beta', question);
    assert.deepEqual(
      betaSees.body.sources.map((source) => source.document_id),
      [id],
    );
    assert.equal((await call('alpha', `/documents/${id}`, { method: 'DELETE' })).status, 404);
    assert.equal((await call('beta', `/documents/${id}`, { method: 'DELETE' })).status, 204);
    await waitFor(async () => ((await ask('beta', question)).body.sources.length === 0 ? true : undefined), {
      what: "beta's deleted document to leave its answers",
    });
    const after = await ask('alpha', question);
    assert.deepEqual(
      after.body.sources.map((source) => source.document_id),
      [docs.alpha.own],
    );
  });
});
