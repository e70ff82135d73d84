import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Scope } from '#libs/contracts';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';
import { startWholeSystem, type WholeSystem } from './support/whole-system.js';

interface LineResult {
  line: number;
  status: number;
  id?: string;
  status_url?: string;
  message?: string;
}
interface BatchResponse {
  accepted: number;
  repeated: number;
  rejected: number;
  results: LineResult[];
}

const MAX_UPLOAD_BYTES = 2_000;
const MAX_BATCH_DOCUMENTS = 6;
const MAX_BATCH_UPLOAD_BYTES = 16_000;

const ndjson = (...lines: unknown[]): string =>
  lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');

function postBatch(baseUrl: string, token: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${baseUrl}/documents/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson', ...headers },
    body,
  });
}

async function documentTitles(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ title: string }>(`SELECT title FROM documents ORDER BY title`);
    return rows.map((row) => row.title);
  } finally {
    await client.end();
  }
}

/** POST /documents/batch (NDJSON): each line answered on its own, valid ones stored together and indexed. */
describe('batch upload', () => {
  let system: WholeSystem;
  let token: string;

  before(async () => {
    system = await startWholeSystem({
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      MAX_BATCH_DOCUMENTS: String(MAX_BATCH_DOCUMENTS),
      MAX_BATCH_UPLOAD_BYTES: String(MAX_BATCH_UPLOAD_BYTES),
    });
    token = await createApiKey(system.env.config);
  });
  after(() => system?.close());

  it('stores and indexes the valid lines; each bad line gets its own 4xx and nothing is stored for it', async () => {
    const response = await postBatch(
      system.gateway.baseUrl,
      token,
      ndjson(
        {
          title: 'Finches',
          content: 'Zebrafinches sing at dawn.',
          collection: 'birds',
          metadata: { lang: 'en' },
        },
        '',
        '{"title": "Broken", "content": ',
        { title: 'Empty', content: '   ' },
        { title: 'Huge', content: 'x'.repeat(MAX_UPLOAD_BYTES + 1) },
        ['not', 'an', 'object'],
        { title: 'Quetzals', content: 'Quetzals nest in cloud forests.', idempotency_key: 'quetzal-1' },
      ),
    );
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('retry-after'), null);
    const batch = (await response.json()) as BatchResponse;
    assert.deepEqual(
      batch.results.map(({ line, status }) => [line, status]),
      [
        [1, 202],
        [3, 400],
        [4, 400],
        [5, 413],
        [6, 400],
        [7, 202],
      ],
      "blank line 2 is skipped; line numbers are the body's",
    );
    assert.deepEqual([batch.accepted, batch.repeated, batch.rejected], [2, 0, 4]);
    assert.match(batch.results[2]?.message ?? '', /content: must not be empty/);
    assert.match(batch.results[3]?.message ?? '', /MAX_UPLOAD_BYTES/);
    assert.deepEqual(await documentTitles(system.env.config.DATABASE_URL), ['Finches', 'Quetzals']);

    for (const result of batch.results.filter(({ status }) => status === 202)) {
      assert.equal(result.status_url, `/documents/${result.id}`);
      await waitFor(
        async () => {
          const document = (await (
            await fetch(`${system.gateway.baseUrl}${result.status_url}`, {
              headers: { authorization: `Bearer ${token}` },
            })
          ).json()) as { status: string; chunk_count: number };
          return document.status === 'indexed' ? document : undefined;
        },
        { what: `document of line ${result.line} indexed` },
      );
    }
    const query = await fetch(`${system.gateway.baseUrl}/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'where do quetzals nest' }),
    });
    const answer = (await query.json()) as { sources: { document_id: string }[] };
    assert.equal(answer.sources[0]?.document_id, batch.results[5]?.id);
  });

  it('answers a repeated idempotency key with the first document (200), within a batch and across batches', async () => {
    const line = { title: 'Axolotls', content: 'Axolotls regrow limbs.', idempotency_key: 'axolotl-1' };
    const first = (await (
      await postBatch(system.gateway.baseUrl, token, ndjson(line, { ...line, title: 'Axolotls again' }))
    ).json()) as BatchResponse;
    assert.deepEqual(
      first.results.map(({ status }) => status),
      [202, 200],
    );
    assert.equal(first.results[1]?.id, first.results[0]?.id);
    const again = (await (
      await postBatch(system.gateway.baseUrl, token, ndjson(line))
    ).json()) as BatchResponse;
    assert.deepEqual(
      again.results.map(({ status, id }) => [status, id]),
      [[200, first.results[0]?.id]],
    );
    const titles = await documentTitles(system.env.config.DATABASE_URL);
    assert.equal(titles.filter((title) => title.startsWith('Axolotls')).length, 1);
  });

  it('refuses a whole request that is not a batch it can take, storing nothing', async () => {
    const before = await documentTitles(system.env.config.DATABASE_URL);
    const line = (n: number) => ({ title: `Refused ${n}`, content: 'never stored' });
    const cases: Array<[string, Promise<Response>, number, RegExp]> = [
      [
        'too many lines',
        postBatch(
          system.gateway.baseUrl,
          token,
          ndjson(...Array.from({ length: MAX_BATCH_DOCUMENTS + 1 }, (_, n) => line(n))),
        ),
        413,
        /MAX_BATCH_DOCUMENTS/,
      ],
      [
        'too many bytes',
        postBatch(
          system.gateway.baseUrl,
          token,
          ndjson({ title: 'Refused big', content: 'y'.repeat(MAX_BATCH_UPLOAD_BYTES) }),
        ),
        413,
        /.+/,
      ],
      ['no documents', postBatch(system.gateway.baseUrl, token, '\n\n'), 400, /no documents/],
      [
        'JSON instead of NDJSON',
        postBatch(system.gateway.baseUrl, token, JSON.stringify(line(0)), {
          'content-type': 'application/json',
        }),
        415,
        /application\/x-ndjson/,
      ],
      [
        'an Idempotency-Key header',
        postBatch(system.gateway.baseUrl, token, ndjson(line(0)), { 'idempotency-key': 'whole-batch' }),
        400,
        /idempotency_key/,
      ],
      [
        'a key without documents:write',
        postBatch(
          system.gateway.baseUrl,
          await createApiKey(system.env.config, { scopes: [Scope.DocumentsRead] }),
          ndjson(line(0)),
        ),
        403,
        /documents:write/,
      ],
    ];
    for (const [what, request, status, message] of cases) {
      const response = await request;
      const body = (await response.json()) as { message: string };
      assert.equal(response.status, status, `${what}: ${body.message}`);
      assert.match(body.message, message, what);
    }
    assert.deepEqual(await documentTitles(system.env.config.DATABASE_URL), before);
  });
});

/**
 * The backlog limits hold for batches: with no ingest worker, documents stay queued, so the
 * tenant's cap and the waiting-jobs limit are reached deterministically.
 */
describe('batch upload against the ingest backlog limits', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;

  before(async () => {
    env = await createTestEnvironment({ INGEST_MAX_QUEUED_PER_TENANT: '3', INGEST_MAX_WAITING: '6' });
    gateway = await startTestGateway(env.config);
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  it("accepts lines up to the tenant's queued cap and answers the rest 429 with Retry-After, storing nothing for them", async () => {
    const token = await createApiKey(env.config, { tenant: 'capped' });
    const lines = Array.from({ length: 5 }, (_, n) => ({ title: `Capped ${n}`, content: `text ${n}` }));
    const response = await postBatch(gateway.baseUrl, token, ndjson(...lines));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('retry-after'), '1');
    const batch = (await response.json()) as BatchResponse;
    assert.deepEqual(
      batch.results.map(({ status }) => status),
      [202, 202, 202, 429, 429],
    );
    assert.match(batch.results[3]?.message ?? '', /INGEST_MAX_QUEUED_PER_TENANT/);
    const titles = await documentTitles(env.config.DATABASE_URL);
    assert.deepEqual(
      titles.filter((title) => title.startsWith('Capped')),
      ['Capped 0', 'Capped 1', 'Capped 2'],
    );
  });

  it('refuses the whole batch with 503 once INGEST_MAX_WAITING jobs wait, storing nothing', async () => {
    const other = await createApiKey(env.config, { tenant: 'other' });
    const filled = (await (
      await postBatch(
        gateway.baseUrl,
        other,
        ndjson(...Array.from({ length: 3 }, (_, n) => ({ title: `Other ${n}`, content: `text ${n}` }))),
      )
    ).json()) as BatchResponse;
    assert.equal(filled.accepted, 3);
    // Six jobs now wait (three per tenant); the gateway's reading of the count is at most 250 ms old.
    const third = await createApiKey(env.config, { tenant: 'third' });
    const stored = async (): Promise<number> =>
      (await documentTitles(env.config.DATABASE_URL)).filter((title) => title === 'Third').length;
    const { refused, storedBefore, storedAfter } = await waitFor(
      async () => {
        const storedBefore = await stored();
        const response = await postBatch(gateway.baseUrl, third, ndjson({ title: 'Third', content: 'late' }));
        if (response.status === 503) return { refused: response, storedBefore, storedAfter: await stored() };
        await response.body?.cancel();
        return undefined;
      },
      { what: 'a 503 for the batch' },
    );
    assert.equal(storedAfter, storedBefore, 'the refused batch stored nothing');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.match(((await refused.json()) as { message: string }).message, /INGEST_MAX_WAITING/);
  });
});
