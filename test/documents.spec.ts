import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { QueueName, RedisKey, type IngestDocumentPayload } from '#libs/contracts';
import { bullPrefix } from '#libs/queues';
import { redisOptionsFromUrl } from '#libs/redis';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const MAX_UPLOAD_BYTES = 16 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MINIMAL_PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}
interface Accepted {
  id: string;
  status: string;
  collection: string;
  status_url: string;
}
interface Summary {
  id: string;
  title: string;
  collection: string;
  status: string;
  chunk_count: number;
  size_bytes: number;
  created_at: string;
  indexed_at: string | null;
}
interface ListPage {
  items: Summary[];
  next_cursor: string | null;
}

/** API.md's fields of GET /documents/{id}, sorted. */
const DOCUMENT_FIELDS = [
  'chunk_count',
  'collection',
  'created_at',
  'error',
  'id',
  'indexed_at',
  'metadata',
  'mime_type',
  'progress',
  'size_bytes',
  'status',
  'title',
  'updated_at',
];

describe('documents API', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let token: string;
  let db: pg.Client;
  let ingest: Queue<IngestDocumentPayload>;

  before(async () => {
    env = await createTestEnvironment({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) });
    gateway = await startTestGateway(env.config);
    token = await createApiKey(env.config);
    db = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await db.connect();
    ingest = new Queue<IngestDocumentPayload>(QueueName.Ingest, {
      connection: redisOptionsFromUrl(env.config.REDIS_URL),
      prefix: bullPrefix(env.config),
    });
  });
  after(async () => {
    await ingest?.close();
    await db?.end();
    await gateway?.close();
    await env?.cleanup();
  });

  const request = (path: string, init: RequestInit = {}, key = token) =>
    fetch(`${gateway.baseUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string> | undefined) },
    });
  const postJson = (body: unknown, headers: Record<string, string> = {}, key = token) =>
    request(
      '/documents',
      {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...headers },
      },
      key,
    );
  const postForm = (form: FormData, headers: Record<string, string> = {}) =>
    request('/documents', { method: 'POST', body: form, headers });
  const fileForm = (
    bytes: Buffer | string,
    fileName: string,
    type: string,
    fields: Record<string, string> = {},
  ) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append('file', new Blob([bytes], { type }), fileName);
    return form;
  };
  async function expectError(response: Response, status: number, message: RegExp): Promise<void> {
    const body = (await response.json()) as ErrorBody;
    assert.equal(response.status, status, `${response.status}: ${body.message}`);
    assert.equal(body.statusCode, status);
    assert.match(body.message, message);
  }
  const countRows = async (where: string, values: unknown[]) =>
    Number(
      (await db.query<{ n: string }>(`SELECT count(*) AS n FROM documents WHERE ${where}`, values)).rows[0]
        ?.n,
    );

  it('accepts a JSON upload with 202, stores it queued and queues a job whose id is the document id', async () => {
    const response = await postJson({
      title: 'Onboarding',
      content: 'Reset your password in settings.',
      metadata: { lang: 'en' },
    });
    assert.equal(response.status, 202);
    const body = (await response.json()) as Accepted;
    assert.match(body.id, UUID);
    assert.deepEqual(body, {
      id: body.id,
      status: 'queued',
      collection: 'default',
      status_url: `/documents/${body.id}`,
    });
    assert.equal(response.headers.get('location'), `/documents/${body.id}`);

    const { rows } = await db.query<{
      status: string;
      size_bytes: number;
      mime_type: string;
      content_sha256: string;
    }>('SELECT status, size_bytes, mime_type, content_sha256 FROM documents WHERE id = $1', [body.id]);
    assert.equal(rows[0]?.status, 'queued');
    assert.equal(rows[0]?.size_bytes, Buffer.byteLength('Reset your password in settings.'));
    assert.equal(rows[0]?.mime_type, 'text/plain');
    assert.match(rows[0]?.content_sha256 ?? '', /^[0-9a-f]{64}$/);
    const job = await ingest.getJob(body.id);
    assert.equal(job?.id, body.id);
    assert.deepEqual(job?.data.documentId, body.id);
  });

  it('accepts a multipart text file, titled by its file name by default', async () => {
    const response = await postForm(
      fileForm('# Guide\nSome text.', 'guide.md', 'text/markdown', { collection: 'manuals' }),
    );
    assert.equal(response.status, 202);
    const body = (await response.json()) as Accepted;
    assert.equal(body.collection, 'manuals');
    const document = (await (await request(body.status_url)).json()) as { title: string; mime_type: string };
    assert.equal(document.title, 'guide.md');
    assert.equal(document.mime_type, 'text/markdown');
    assert.ok(await ingest.getJob(body.id));
  });

  it('accepts a multipart PDF, recognised by its header, with title and metadata fields', async () => {
    const response = await postForm(
      fileForm(MINIMAL_PDF, 'report.pdf', 'application/pdf', {
        title: 'Q3 report',
        metadata: '{"year":2026}',
      }),
    );
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as Accepted;
    const document = (await (await request(`/documents/${id}`)).json()) as Record<string, unknown>;
    assert.equal(document.title, 'Q3 report');
    assert.equal(document.mime_type, 'application/pdf');
    assert.deepEqual(document.metadata, { year: 2026 });
    assert.equal(document.size_bytes, MINIMAL_PDF.length);
  });

  it('rejects invalid uploads with 400 naming the field', async () => {
    await expectError(await postJson({ title: 'Empty', content: '' }), 400, /^content: /);
    await expectError(await postJson({ title: 'Blank', content: '   \n ' }), 400, /^content: /);
    await expectError(
      await postJson({ title: 'x', content: 'y', collection: 'Bad Name' }),
      400,
      /^collection: /,
    );
    await expectError(await postJson({ title: 't'.repeat(301), content: 'y' }), 400, /^title: must be 1–300/);
    await expectError(await postJson({ title: '', content: 'y' }), 400, /^title: /);
    await expectError(
      await postJson({ title: 'nul\u0000', content: 'y' }),
      400,
      /^title: must not contain NUL/,
    );
    await expectError(
      await postJson({ title: 'x', content: 'y', metadata: [1, 2] }),
      400,
      /^metadata: must be a JSON object/,
    );
    await expectError(
      await postJson({ title: 'x', content: 'y', metadata: { blob: 'm'.repeat(9000) } }),
      400,
      /^metadata: must be at most 8192 bytes/,
    );
    await expectError(await postJson({ title: 'x', content: 'y', colour: 'red' }), 400, /colour/);
    await expectError(await postForm(fileForm('', 'empty.txt', 'text/plain')), 400, /^file: is empty/);
    await expectError(
      await postForm(fileForm('text', 'a.txt', 'text/plain', { metadata: 'not json' })),
      400,
      /^metadata: must be a JSON object/,
    );
    const noFile = new FormData();
    noFile.append('title', 'no file');
    await expectError(await postForm(noFile), 400, /^file: is required/);
    await expectError(
      await postJson({ title: 'x', content: 'y' }, { 'idempotency-key': 'k'.repeat(201) }),
      400,
      /^Idempotency-Key: /,
    );
    assert.equal(await countRows('title IN ($1, $2)', ['x', 'Empty']), 0);
  });

  it('rejects malformed multipart bodies with 400 and stores nothing', async () => {
    const part = '--b0\r\nContent-Disposition: form-data; name="file"; filename="m.txt"\r\n\r\n';
    const cases: Array<[string, string, RegExp]> = [
      ['multipart/form-data', `${part}hello\r\n--b0--\r\n`, /Boundary not found/],
      ['multipart/form-data; boundary=b0', `${part}hello, cut sh`, /unexpected end/i],
      ['multipart/form-data; boundary=b0', '--b0\r\nContent-Disposi', /unexpected end/i],
      [`multipart/form-data; boundary=${'b'.repeat(300)}`, 'x', /multipart/],
      ['multipart/form-data; boundary=', 'x', /multipart/],
    ];
    for (const [contentType, body, message] of cases) {
      const response = await request('/documents', {
        method: 'POST',
        body,
        headers: { 'content-type': contentType },
      });
      await expectError(response, 400, message);
    }
    assert.equal(await countRows('title = $1', ['m.txt']), 0);
  });

  it('answers a file part without a file name with a 4xx, never a 500', async () => {
    const withoutName = (type: string, content: string) =>
      `--b1\r\nContent-Disposition: form-data; name="file"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n--b1--\r\n`;
    const refused = await request('/documents', {
      method: 'POST',
      body: withoutName('application/octet-stream', '{"title":"json in a file"}'),
      headers: { 'content-type': 'multipart/form-data; boundary=b1' },
    });
    assert.equal(refused.status, 415, await refused.clone().text());
    // With a text type busboy reads the same part as a plain field: told apart, not "unknown field".
    const asField = await request('/documents', {
      method: 'POST',
      body: withoutName('text/plain', 'A nameless note about passwords.'),
      headers: { 'content-type': 'multipart/form-data; boundary=b1' },
    });
    await expectError(asField, 400, /^file: must be a file part, with a filename/);
    assert.equal(await countRows('title = $1', ['untitled']), 0);
  });

  it('rejects deeply nested JSON and metadata jsonb cannot hold with 400 naming the field', async () => {
    // Objects to 40 levels, and arrays 5,000 deep: deep enough to overflow class-transformer's stack.
    const objects = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const arrays = (depth: number) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    for (const metadata of [objects(40), arrays(5_000)]) {
      const response = await request('/documents', {
        method: 'POST',
        body: `{"title":"deep","content":"text","metadata":${metadata}}`,
        headers: { 'content-type': 'application/json' },
      });
      await expectError(response, 400, /^metadata: nested deeper than 32 levels/);
    }
    await expectError(
      await postJson(JSON.parse(`{"title":"deep","content":"t","extra":${arrays(50)}}`) as unknown),
      400,
      /^extra: nested deeper/,
    );
    await expectError(
      await postForm(fileForm('text', 'deep.txt', 'text/plain', { metadata: arrays(5_000) })),
      400,
      /^metadata: nested deeper than 32 levels/,
    );
    await expectError(
      await request('/documents', {
        method: 'POST',
        body: '{"title":"deep","content":"t","metadata":{"\\ud800":"\\udc00 alone"}}',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      /^metadata: must not contain NUL characters or unpaired UTF-16 surrogates/,
    );
    assert.equal(await countRows('title IN ($1, $2)', ['deep', 'deep.txt']), 0);
    // Nesting within the limit is still accepted.
    const shallow = await postJson({
      title: 'deep',
      content: 'text',
      metadata: JSON.parse(objects(30)) as unknown,
    });
    assert.equal(shallow.status, 202);
  });

  it('rejects an upload over MAX_UPLOAD_BYTES with 413, as JSON and as a multipart file', async () => {
    await expectError(
      await postJson({ title: 'big', content: 'a'.repeat(MAX_UPLOAD_BYTES + 1) }),
      413,
      new RegExp(`MAX_UPLOAD_BYTES \\(${MAX_UPLOAD_BYTES} bytes\\)`),
    );
    await expectError(
      await postForm(fileForm('a'.repeat(MAX_UPLOAD_BYTES + 1), 'big.txt', 'text/plain')),
      413,
      new RegExp(`^file: larger than MAX_UPLOAD_BYTES \\(${MAX_UPLOAD_BYTES} bytes\\)`),
    );
    assert.equal(await countRows('title IN ($1, $2)', ['big', 'big.txt']), 0);
  });

  it('rejects types it cannot read with 415', async () => {
    await expectError(
      await postForm(fileForm('a,b\n1,2\n', 'data.csv', 'text/csv')),
      415,
      /^file: unsupported type \(\.csv/,
    );
    await expectError(
      await postForm(fileForm('plain text', 'fake.pdf', 'application/pdf')),
      415,
      /^file: is not a PDF/,
    );
    await expectError(
      await request('/documents', { method: 'POST', body: 'a,b', headers: { 'content-type': 'text/csv' } }),
      415,
      /text\/csv/,
    );
    await expectError(
      await request('/documents', {
        method: 'POST',
        body: 'title=x&content=y',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      /^Content-Type: must be application\/json or multipart\/form-data/,
    );
  });

  it('answers a repeated Idempotency-Key from the same API key with 200 and the same document, without a new job', async () => {
    const headers = { 'idempotency-key': 'upload-42' };
    const first = await postJson({ title: 'Once', content: 'only once' }, headers);
    assert.equal(first.status, 202);
    const { id } = (await first.json()) as Accepted;
    const again = await postJson({ title: 'Once', content: 'only once' }, headers);
    assert.equal(again.status, 200);
    const repeated = (await again.json()) as Accepted;
    assert.equal(repeated.id, id);
    assert.equal(again.headers.get('location'), `/documents/${id}`);
    assert.equal(await countRows('title = $1', ['Once']), 1);
    assert.equal(
      (await ingest.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter(
        (job) => job.data.documentId === id,
      ).length,
      1,
    );

    const otherKey = await createApiKey(env.config);
    const fromOther = await postJson({ title: 'Once', content: 'only once' }, headers, otherKey);
    assert.equal(fromOther.status, 202);
    assert.notEqual(((await fromOther.json()) as Accepted).id, id);
  });

  it('lists documents newest first, page by page with next_cursor, filtered by collection and status', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const response = await postJson({
        title: `Page doc ${index}`,
        content: `text ${index}`,
        collection: 'paging',
      });
      ids.push(((await response.json()) as Accepted).id);
    }
    // This process's own upload clears its list cache: the new documents are listed at once.
    const seen: Summary[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/documents?collection=paging&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const response = await request(query);
      assert.equal(response.status, 200);
      const page = (await response.json()) as ListPage;
      assert.ok(page.items.length <= 2);
      seen.push(...page.items);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(new Set(seen.map((item) => item.id)), new Set(ids));
    assert.equal(seen.length, 5);
    for (let index = 1; index < seen.length; index += 1) {
      assert.ok((seen[index - 1]?.created_at ?? '') >= (seen[index]?.created_at ?? ''), 'newest first');
    }
    assert.deepEqual(Object.keys(seen[0] ?? {}).sort(), [
      'chunk_count',
      'collection',
      'created_at',
      'id',
      'indexed_at',
      'size_bytes',
      'status',
      'title',
    ]);
    assert.equal(seen[0]?.collection, 'paging');

    await db.query(`UPDATE documents SET status = 'indexed', indexed_at = now() WHERE id = $1`, [ids[2]]);
    // Another process's change (the ingest worker's) shows within the cache's second.
    const indexed = await waitFor(
      async () => {
        const page = (await (
          await request('/documents?collection=paging&status=indexed')
        ).json()) as ListPage;
        return page.items.length > 0 ? page : undefined;
      },
      { timeoutMs: 3_000, what: 'the indexed document in the list' },
    );
    assert.deepEqual(
      indexed.items.map((item) => item.id),
      [ids[2]],
    );
    assert.equal(indexed.next_cursor, null);
  });

  it('rejects bad list parameters with 400 naming the parameter', async () => {
    await expectError(await request('/documents?limit=0'), 400, /^limit: /);
    await expectError(await request('/documents?limit=101'), 400, /^limit: /);
    await expectError(await request('/documents?limit=ten'), 400, /^limit: /);
    await expectError(await request('/documents?cursor=garbage'), 400, /^cursor: /);
    await expectError(await request('/documents?status=done'), 400, /^status: /);
    await expectError(await request('/documents?collection=Bad!'), 400, /^collection: /);
    // A repeated parameter is named once, not once per value.
    await expectError(
      await request('/documents?limit=5&limit=6'),
      400,
      /^limit: must be an integer from 1 to 100$/,
    );
  });

  it('returns one document with every field, 404 for an unknown id and 400 for a non-UUID', async () => {
    const { id } = (await (
      await postJson({ title: 'Fields', content: 'abc', metadata: { a: 1 } })
    ).json()) as Accepted;
    const response = await request(`/documents/${id}`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(document).sort(), DOCUMENT_FIELDS);
    assert.equal(document.status, 'queued');
    assert.equal(document.progress, 0);
    assert.equal(document.error, null);
    assert.equal(document.size_bytes, 3);
    assert.equal(new Date(document.created_at as string).toISOString(), document.created_at);
    await expectError(await request('/documents/00000000-0000-4000-8000-000000000000'), 404, /^id: /);
    await expectError(await request('/documents/not-a-uuid'), 400, /^id: must be a UUID/);
  });

  it('deletes a document with 204, drops its pending job and bumps the corpus version; then 404', async () => {
    const { id } = (await (await postJson({ title: 'Doomed', content: 'bye' })).json()) as Accepted;
    assert.ok(await ingest.getJob(id));
    const redis = new Redis({
      ...redisOptionsFromUrl(env.config.REDIS_URL),
      keyPrefix: `${env.config.REDIS_KEY_PREFIX}:`,
    });
    try {
      const version = async () => Number((await redis.hget(RedisKey.CorpusVersions, 'default')) ?? 0);
      const before = await version();
      const response = await request(`/documents/${id}`, { method: 'DELETE' });
      assert.equal(response.status, 204);
      assert.equal(await response.text(), '');
      assert.ok((await version()) > before);
    } finally {
      await redis.quit();
    }
    assert.equal(await ingest.getJob(id), undefined);
    assert.equal(await countRows('id = $1', [id]), 0);
    await expectError(await request(`/documents/${id}`), 404, /^id: /);
    await expectError(await request(`/documents/${id}`, { method: 'DELETE' }), 404, /^id: /);
    const page = (await (await request('/documents?limit=100')).json()) as ListPage;
    assert.ok(!page.items.some((item) => item.id === id), 'gone from the list at once');
  });

  it('answers 503 with Retry-After and stores nothing when Postgres refuses connections', async () => {
    const name = new URL(env.config.DATABASE_URL).pathname.slice(1);
    const admin = new pg.Client({
      connectionString: env.config.DATABASE_URL.replace(`/${name}`, '/postgres'),
    });
    await admin.connect();
    // Our own connection would be terminated too.
    await db.end();
    try {
      await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      const response = await postJson({ title: 'During outage', content: 'lost?' });
      assert.equal(response.status, 503);
      assert.ok(Number(response.headers.get('retry-after')) >= 1);
      assert.match(((await response.json()) as ErrorBody).message, /not stored/);
    } finally {
      await admin.query(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    db = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await db.connect();
    assert.equal(await countRows('title = $1', ['During outage']), 0);
  });

  it('describes every documents route, its fields and statuses in the OpenAPI document', async () => {
    const document = (await (await fetch(`${gateway.baseUrl}/docs-json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            tags: string[];
            responses: Record<string, unknown>;
            requestBody?: { content: Record<string, unknown> };
          }
        >
      >;
      components: { schemas: Record<string, { properties: Record<string, unknown> }> };
    };
    const upload = document.paths['/documents']?.post;
    assert.deepEqual(upload?.tags, ['documents']);
    assert.deepEqual(Object.keys(upload?.requestBody?.content ?? {}).sort(), [
      'application/json',
      'multipart/form-data',
    ]);
    assert.deepEqual(Object.keys(upload?.responses ?? {}).sort(), [
      '200',
      '202',
      '400',
      '401',
      '403',
      '413',
      '415',
      '429',
      '503',
    ]);
    assert.ok(document.paths['/documents/{id}']?.delete?.responses['204']);
    assert.ok(document.paths['/documents/{id}']?.get?.responses['404']);
    assert.deepEqual(
      Object.keys(document.components.schemas.DocumentResponse?.properties ?? {}).sort(),
      DOCUMENT_FIELDS,
    );
    assert.ok(document.components.schemas.CreateDocumentDto?.properties.content);
    assert.ok(document.components.schemas.UploadDocumentFormDto?.properties.file);
  });
});
