import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { DEFAULT_TENANT, EventName, parseTenantId, type CorpusChangedEvent } from '#libs/contracts';
import { CorpusEvents, CorpusVersion } from '#libs/corpus';
import { redisOptionsFromUrl } from '#libs/redis';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import {
  FAIL_WORD,
  SLOW_WORD,
  startStandInQueryWorker,
  type StandInQueryWorker,
} from './support/stand-in-query-worker.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

interface QueryBody {
  query: string;
  answer: string;
  sources: { document_id: string; score: number }[];
  cached: boolean;
  took_ms: number;
}
interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

const QUERY_TIMEOUT_MS = 1_500;

describe('POST /query', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let standIn: StandInQueryWorker;
  let token: string;

  before(async () => {
    env = await createTestEnvironment({ QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS) });
    token = await createApiKey(env.config);
    standIn = await startStandInQueryWorker(env.config);
    gateway = await startTestGateway(env.config);
  });
  after(async () => {
    await gateway?.close();
    await standIn?.close();
    await env?.cleanup();
  });

  const ask = (body: unknown, baseUrl = gateway.baseUrl): Promise<Response> =>
    fetch(`${baseUrl}/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const jobsFor = (query: string): number => standIn.jobs.filter((job) => job.query === query).length;

  for (const [what, body, field] of [
    ['top_k 0', { query: 'reset password', top_k: 0 }, 'top_k'],
    ['top_k 51', { query: 'reset password', top_k: 51 }, 'top_k'],
    ['top_k 1.5', { query: 'reset password', top_k: 1.5 }, 'top_k'],
    ['top_k null', { query: 'reset password', top_k: null }, 'top_k'],
    ['a missing query', { top_k: 5 }, 'query'],
    ['a query of 2001 characters', { query: 'a'.repeat(2001) }, 'query'],
    ['a whitespace-only query', { query: ' \n\t  ' }, 'query'],
    [
      'a collection that breaks the pattern',
      { query: 'reset password', collection: 'Not OK!' },
      'collection',
    ],
    ['an unknown field', { query: 'reset password', topk: 3 }, 'topk'],
  ] as const) {
    it(`rejects ${what} with 400 naming ${field}`, async () => {
      const response = await ask(body);
      assert.equal(response.status, 400);
      const error = (await response.json()) as ErrorBody;
      assert.equal(error.statusCode, 400);
      assert.equal(error.error, 'Bad Request');
      assert.match(error.message, new RegExp(`\\b${field}\\b`));
    });
  }

  it('accepts 2000 characters after trimming and defaults top_k to 5', async () => {
    const query = 'b'.repeat(2000);
    const response = await ask({ query: `  ${query}\n` });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as QueryBody).query, query);
    assert.equal(standIn.jobs.find((job) => job.query === query)?.topK, 5);
  });

  it('documents the request and the X-Cache header in the OpenAPI document', async () => {
    interface OpenApi {
      paths: Record<string, Record<string, { responses: Record<string, { headers?: object }> }>>;
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    }
    const document = (await (await fetch(`${gateway.baseUrl}/docs-json`)).json()) as OpenApi;
    assert.ok(document.paths['/query']?.post?.responses['200']?.headers);
    const request = document.components.schemas.QueryRequestDto?.properties;
    assert.deepEqual(request?.top_k, {
      type: 'integer',
      description: 'How many sources to return at most',
      minimum: 1,
      maximum: 50,
      default: 5,
    });
    assert.equal(request?.collection?.type, 'string');
    assert.equal(request?.query?.maxLength, 2000);
  });

  it('answers a MISS from a worker, then the same answer as a HIT from the cache', async () => {
    const first = await ask({ query: 'How do I reset my password?', top_k: 3 });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-cache'), 'MISS');
    const miss = (await first.json()) as QueryBody;
    assert.equal(miss.cached, false);
    assert.equal(miss.query, 'How do I reset my password?');
    assert.match(miss.answer, /^answer to "how do i reset my password\?"/);
    assert.equal(miss.sources.length, 2);
    assert.equal(typeof miss.took_ms, 'number');

    // Case and whitespace variants are the same request.
    const second = await ask({ query: '  how do I   RESET my password? ', top_k: 3 });
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-cache'), 'HIT');
    const hit = (await second.json()) as QueryBody;
    assert.equal(hit.cached, true);
    assert.equal(hit.answer, miss.answer);
    assert.deepEqual(hit.sources, miss.sources);
    assert.equal(jobsFor('how do i reset my password?'), 1);
  });

  it("answers a hit from this process's memory exactly as the controller answers one from Redis", async () => {
    const query = `unchanged hit ${randomUUID()}`;
    const other = await startTestGateway(env.config);
    try {
      assert.equal((await ask({ query })).headers.get('x-cache'), 'MISS');
      // The other process has it in Redis only: the controller answers; then from its own memory.
      const fromRedis = await ask({ query }, other.baseUrl);
      const fromMemory = await ask({ query }, other.baseUrl);
      const varying = new Set([
        'date',
        'x-request-id',
        'x-process-time',
        'ratelimit-remaining',
        'content-length',
      ]);
      const stable = (response: Response) =>
        [...response.headers].filter(([name]) => !varying.has(name)).sort(([a], [b]) => a.localeCompare(b));
      assert.equal(fromRedis.headers.get('x-cache'), 'HIT');
      assert.deepEqual(stable(fromMemory), stable(fromRedis));
      const withoutTime = ({ took_ms: _took, ...body }: QueryBody) => body;
      assert.deepEqual(
        withoutTime((await fromMemory.json()) as QueryBody),
        withoutTime((await fromRedis.json()) as QueryBody),
      );
      assert.equal(jobsFor(query.toLowerCase()), 1);
    } finally {
      await other.close();
    }
  });

  it('keeps top_k and collection in the cache key', async () => {
    const base = { query: 'where are the invoices' };
    assert.equal((await ask(base)).headers.get('x-cache'), 'MISS');
    assert.equal((await ask({ ...base, top_k: 1 })).headers.get('x-cache'), 'MISS');
    assert.equal((await ask({ ...base, collection: 'finance' })).headers.get('x-cache'), 'MISS');
    assert.equal((await ask(base)).headers.get('x-cache'), 'HIT');
    const jobs = standIn.jobs.filter((job) => job.query === 'where are the invoices');
    assert.deepEqual(
      jobs.map((job) => [job.topK, job.collection]),
      [
        [5, null],
        [1, null],
        [5, 'finance'],
      ],
    );
  });

  it('runs identical concurrent misses once', async () => {
    const query = `${SLOW_WORD} answered question ${randomUUID()}`;
    const responses = await Promise.all(Array.from({ length: 8 }, () => ask({ query })));
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as QueryBody[];
    assert.deepEqual(
      responses.map((response) => response.status),
      Array.from({ length: 8 }, () => 200),
    );
    assert.equal(new Set(bodies.map((body) => body.answer)).size, 1);
    assert.equal(jobsFor(query), 1);
  });

  it('runs identical concurrent misses once across gateway processes (one job id)', async () => {
    const other = await startTestGateway(env.config);
    try {
      const query = `${SLOW_WORD} shared question ${randomUUID()}`;
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          ask({ query }, index % 2 === 0 ? gateway.baseUrl : other.baseUrl),
        ),
      );
      assert.deepEqual(
        responses.map((response) => response.status),
        Array.from({ length: 8 }, () => 200),
      );
      assert.equal(jobsFor(query), 1);
    } finally {
      await other.close();
    }
  });

  it('misses again after the corpus changes', async () => {
    const query = 'what changed in the handbook';
    assert.equal((await ask({ query })).headers.get('x-cache'), 'MISS');
    assert.equal((await ask({ query })).headers.get('x-cache'), 'HIT');
    const version = await gateway.app
      .get(CorpusEvents)
      .corpusChanged(DEFAULT_TENANT, 'indexed', randomUUID());
    const after = await ask({ query });
    assert.equal(after.headers.get('x-cache'), 'MISS');
    assert.match(((await after.json()) as QueryBody).answer, new RegExp(`corpus version ${version}$`));
    assert.equal(jobsFor(query), 2);
  });

  it("moves the tenant's corpus version on a corpus.changed event of its own deployment only", async () => {
    const corpusVersion = gateway.app.get(CorpusVersion);
    const client: ClientProxy = ClientProxyFactory.create({
      transport: Transport.REDIS,
      options: redisOptionsFromUrl(env.config.REDIS_URL),
    });
    try {
      const emit = (event: CorpusChangedEvent) =>
        lastValueFrom(client.emit(EventName.CorpusChanged, event), { defaultValue: undefined });
      const other = parseTenantId('other-tenant');
      const base = corpusVersion.current(DEFAULT_TENANT);
      const otherBase = corpusVersion.current(other);
      const event = { reason: 'indexed', documentId: randomUUID(), tenant: DEFAULT_TENANT } as const;
      // Published in order on one connection, so the foreign events are handled first.
      await emit({ ...event, namespace: `${env.config.REDIS_KEY_PREFIX}_other`, version: base + 2_000 });
      await emit({ ...event, tenant: other, namespace: env.config.REDIS_KEY_PREFIX, version: base + 3_000 });
      await emit({ ...event, namespace: env.config.REDIS_KEY_PREFIX, version: base + 1_000 });
      await waitFor(
        () => Promise.resolve(corpusVersion.current(DEFAULT_TENANT) !== base ? true : undefined),
        { what: 'the corpus.changed event' },
      );
      assert.equal(corpusVersion.current(DEFAULT_TENANT), base + 1_000);
      assert.equal(corpusVersion.current(other), Math.max(otherBase, base + 3_000));
    } finally {
      await client.close();
    }
  });

  it("answers 502 naming the query worker when the job fails, without the worker's internal reason", async () => {
    const response = await ask({ query: `please ${FAIL_WORD}` });
    assert.equal(response.status, 502);
    const error = (await response.json()) as ErrorBody;
    assert.equal(error.error, 'Bad Gateway');
    assert.match(error.message, /^the query worker failed to answer \(job /);
    assert.doesNotMatch(error.message, /exploded/);
  });

  it('answers 504 after QUERY_TIMEOUT_MS when no query worker runs', async () => {
    await standIn.worker.pause();
    try {
      const startedAt = Date.now();
      const response = await ask({ query: `nobody is listening ${randomUUID()}` });
      assert.equal(response.status, 504);
      assert.ok(Date.now() - startedAt >= QUERY_TIMEOUT_MS - 50);
      assert.deepEqual(await response.json(), {
        statusCode: 504,
        error: 'Gateway Timeout',
        message: `no query worker answered within ${QUERY_TIMEOUT_MS} ms`,
      });
    } finally {
      await standIn.worker.resume();
    }
  });
});
