import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkerHttpService } from '#libs/worker-http';
import { createApiKey } from './support/api-keys.js';
import { docxWithText, htmlPage, markdownDocument, pdfWithText } from './support/fixtures.js';
import type { RunningGateway } from './support/gateway.js';
import { waitFor, type TestEnvironment } from './support/test-environment.js';
import { startWholeSystem, type WholeSystem } from './support/whole-system.js';

interface QueryAnswer {
  query: string;
  answer: string;
  sources: { document_id: string; chunk_id: string; title: string; snippet: string; score: number }[];
  cached: boolean;
  took_ms: number;
}

/**
 * The whole system in one process: gateway, ingest worker and query worker, on the run's own
 * database and Redis prefix. Documents go in through the HTTP API and answers come out of it.
 */
describe('upload → ingest → query, end to end', () => {
  let system: WholeSystem;
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let auth: { authorization: string };

  before(async () => {
    system = await startWholeSystem();
    ({ env, gateway } = system);
    auth = { authorization: `Bearer ${await createApiKey(env.config)}` };
  });

  after(() => system?.close());

  async function uploadJson(body: Record<string, unknown>): Promise<string> {
    const response = await fetch(`${gateway.baseUrl}/documents`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 202, await response.clone().text());
    const accepted = (await response.json()) as { id: string; status: string };
    assert.equal(accepted.status, 'queued');
    return accepted.id;
  }

  async function uploadFile(name: string, type: string, content: Buffer | string): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([content], { type }), name);
    const response = await fetch(`${gateway.baseUrl}/documents`, {
      method: 'POST',
      headers: auth,
      body: form,
    });
    assert.equal(response.status, 202, await response.clone().text());
    return ((await response.json()) as { id: string }).id;
  }

  async function waitIndexed(
    id: string,
  ): Promise<{ status: string; chunk_count: number; mime_type: string }> {
    return waitFor(
      async () => {
        const response = await fetch(`${gateway.baseUrl}/documents/${id}`, { headers: auth });
        const document = (await response.json()) as {
          status: string;
          chunk_count: number;
          mime_type: string;
        };
        if (document.status === 'failed')
          throw new Error(`document ${id} failed: ${JSON.stringify(document)}`);
        return document.status === 'indexed' ? document : undefined;
      },
      { what: `document ${id} indexed`, timeoutMs: 30_000 },
    );
  }

  async function ask(
    query: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ cache: string; body: QueryAnswer }> {
    const response = await fetch(`${gateway.baseUrl}/query`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ query, ...extra }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return { cache: response.headers.get('x-cache') ?? '', body: (await response.json()) as QueryAnswer };
  }

  it('indexes an upload of each supported type and finds each by its own words', async () => {
    const uploads = [
      {
        id: await uploadJson({
          title: 'Volcano notes',
          content: 'Basaltic lava from shield volcanoes flows far because it is runny and hot.',
        }),
        question: 'why does basaltic lava flow so far?',
        mime: 'text/plain',
      },
      {
        id: await uploadFile(
          'glaciers.txt',
          'text/plain',
          'Glaciers carve U-shaped valleys as they grind bedrock.',
        ),
        question: 'which valleys do glaciers carve?',
        mime: 'text/plain',
      },
      {
        id: await uploadFile(
          'coral.md',
          'text/markdown',
          markdownDocument('Coral reefs', ['Coral bleaching happens when warm water expels the algae.']),
        ),
        question: 'what causes coral bleaching?',
        mime: 'text/markdown',
      },
      {
        id: await uploadFile(
          'tides.html',
          'text/html',
          htmlPage('Tides', ['Spring tides occur when the sun and moon align with the earth.']),
        ),
        question: 'when do spring tides occur?',
        mime: 'text/html',
      },
      {
        id: await uploadFile(
          'dunes.pdf',
          'application/pdf',
          await pdfWithText('Barchan dunes migrate downwind in crescent shapes.'),
        ),
        question: 'how do barchan dunes migrate?',
        mime: 'application/pdf',
      },
      {
        id: await uploadFile(
          'geysers.docx',
          'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
          await docxWithText(['Geysers erupt when groundwater heated by magma flashes into steam.']),
        ),
        question: 'why do geysers erupt?',
        mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      },
    ];
    for (const upload of uploads) {
      const document = await waitIndexed(upload.id);
      assert.ok(document.chunk_count > 0);
      assert.equal(document.mime_type, upload.mime);
    }
    for (const upload of uploads) {
      const { body } = await ask(upload.question, { top_k: 3 });
      assert.equal(
        body.sources[0]?.document_id,
        upload.id,
        `${upload.question} → ${JSON.stringify(body.sources)}`,
      );
      assert.ok(body.answer.length > 0);
    }
  });

  it('answers an English and a Russian question (inflected forms) from the right document, then from the cache', async () => {
    const english = await uploadJson({
      title: 'Password help',
      content: 'To reset your password, open the account settings and choose the security tab.',
    });
    const russian = await uploadJson({
      title: 'Восстановление доступа',
      content:
        'Чтобы сменить пароль, откройте настройки учётной записи. Ссылка для сброса пароля придёт на почту.',
      metadata: { lang: 'ru' },
    });
    await waitIndexed(english);
    await waitIndexed(russian);

    const first = await ask('How do I reset my password?');
    assert.equal(first.cache, 'MISS');
    assert.equal(first.body.cached, false);
    assert.equal(first.body.sources[0]?.document_id, english);
    assert.match(first.body.answer, /reset your password/i);

    const second = await ask('  how do I reset my   password? ');
    assert.equal(second.cache, 'HIT');
    assert.equal(second.body.cached, true);
    assert.deepEqual(second.body.sources, first.body.sources);

    const inRussian = await ask('где ссылка для сброса паролей?');
    assert.equal(inRussian.body.sources[0]?.document_id, russian);
    assert.match(inRussian.body.sources[0]?.title ?? '', /Восстановление/);
  });

  it('never serves a stale answer after an upload or a delete', async () => {
    const question = 'how long do axolotls live in captivity?';
    const before = await ask(question);
    assert.equal(before.body.sources.length, 0);

    const axolotl = await uploadJson({
      title: 'Axolotl care',
      content: 'Axolotls live ten to fifteen years in captivity when the water stays cool.',
    });
    await waitIndexed(axolotl);
    const afterUpload = await ask(question);
    assert.equal(afterUpload.cache, 'MISS');
    assert.equal(afterUpload.body.sources[0]?.document_id, axolotl);
    assert.equal((await ask(question)).cache, 'HIT');

    const deleted = await fetch(`${gateway.baseUrl}/documents/${axolotl}`, {
      method: 'DELETE',
      headers: auth,
    });
    assert.equal(deleted.status, 204);
    const afterDelete = await ask(question);
    assert.equal(afterDelete.cache, 'MISS');
    assert.ok(afterDelete.body.sources.every((source) => source.document_id !== axolotl));
  });

  it('labels metrics with route templates, never raw paths', async () => {
    const id = await uploadJson({
      title: 'Metrics probe',
      content: 'A short document for the metrics check.',
    });
    await fetch(`${gateway.baseUrl}/documents/${id}`, { headers: auth });
    const metrics = await (await fetch(`${gateway.baseUrl}/metrics`)).text();
    assert.match(metrics, /http_requests_total\{[^}]*route="\/documents\/:id"[^}]*\}/);
    assert.match(metrics, /http_request_duration_seconds_bucket\{[^}]*route="\/query"/);
    assert.doesNotMatch(metrics, new RegExp(id));
    for (const series of ['active_connections', 'query_cache_hits_total', 'query_cache_misses_total']) {
      assert.match(metrics, new RegExp(`^${series}`, 'm'), series);
    }
    // Job durations come from the workers that ran the jobs; queue depths from exactly one process.
    const [ingestMetrics, queryMetrics] = await Promise.all(
      system.workers.map(async (worker) => {
        const port = worker.get(WorkerHttpService, { strict: false }).port;
        return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      }),
    );
    assert.match(ingestMetrics, /^ingest_job_duration_seconds_count [1-9]/m);
    assert.match(queryMetrics, /^query_job_duration_seconds_count [1-9]/m);
    const exporting = [metrics, ingestMetrics, queryMetrics].filter((text) => /^queue_jobs\{/m.test(text));
    assert.equal(exporting.length, 1, 'queue_jobs is exported by one process');
  });
});
