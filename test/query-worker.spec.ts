import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { QueueEvents } from 'bullmq';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_TENANT,
  JobName,
  QueueName,
  type AnswerQueryPayload,
  type AnswerQueryResult,
} from '#libs/contracts';
import { ChunkIndexRepository, type TextSearchConfig } from '#libs/database';
import { bullPrefix, JobProducer } from '#libs/queues';
import { redisOptionsFromUrl } from '#libs/redis';
import { NO_MATCH_ANSWER } from '#libs/retrieval';
import { AnswerQueryProcessor } from '../apps/query-worker/src/query/answer-query.processor.js';
import { createQueryWorkerApp } from '../apps/query-worker/src/query-worker.app.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

interface Fixture {
  title: string;
  collection: string;
  language: TextSearchConfig;
  content: string;
}

const FIXTURES = {
  passwordReset: {
    title: 'Resetting your password',
    collection: 'help',
    language: 'english',
    content:
      'Accounts are protected by a password of at least twelve characters. ' +
      "To reset a forgotten password, open the sign-in page and choose 'Forgot password'. " +
      'We send a reset link to your e-mail address. The link expires after one hour.',
  },
  shipping: {
    title: 'Shipping and delivery',
    collection: 'help',
    language: 'english',
    content:
      'Orders ship within two business days. Delivery to Europe takes five to seven days. ' +
      'Tracking numbers are sent by e-mail once the parcel leaves our warehouse.',
  },
  billing: {
    title: 'Billing',
    collection: 'help',
    language: 'english',
    content: 'Invoices are issued monthly. You can pay by card or bank transfer. Refunds take ten days.',
  },
  rotation: {
    title: 'Service account rotation',
    collection: 'internal',
    language: 'english',
    content: 'Administrators rotate every service account password every ninety days. Rotation is logged.',
  },
  russianAccess: {
    title: 'Восстановление доступа',
    collection: 'help',
    language: 'russian',
    content:
      'Если вы забыли пароль, откройте страницу входа и нажмите «Забыли пароль?». ' +
      'Мы отправим ссылку для сброса пароля на вашу почту. Ссылка действует один час.',
  },
  russianShipping: {
    title: 'Доставка заказов',
    collection: 'help',
    language: 'russian',
    content:
      'Заказы отправляются в течение двух рабочих дней. Доставка по Европе занимает от пяти до семи дней.',
  },
  // Indexed without stemming or stop words ('simple'), as for a language the ingest does not recognise.
  helmNotes: {
    title: 'Helm notes',
    collection: 'ops',
    language: 'simple',
    content: 'The values file of the chart holds passwords for the database.',
  },
} satisfies Record<string, Fixture>;

type FixtureName = keyof typeof FIXTURES;

describe('query worker', () => {
  let env: TestEnvironment;
  let app: INestApplicationContext;
  let queueEvents: QueueEvents;
  const ids = new Map<FixtureName, string>();

  async function ask(query: string, options: Partial<AnswerQueryPayload> = {}): Promise<AnswerQueryResult> {
    const job = await app.get(JobProducer).enqueue(
      JobName.AnswerQuery,
      { tenant: DEFAULT_TENANT, query, topK: 5, collection: null, corpusVersion: 1, ...options },
      // Kept after completion so that waiting on a job that already finished still finds its result.
      { removeOnComplete: false },
    );
    return (await job.waitUntilFinished(queueEvents, 15_000)) as AnswerQueryResult;
  }

  const nameOf = (documentId: string): FixtureName | undefined =>
    [...ids].find(([, id]) => id === documentId)?.[0];

  before(async () => {
    env = await createTestEnvironment();
    app = await createQueryWorkerApp(env.config);
    queueEvents = new QueueEvents(QueueName.Query, {
      connection: redisOptionsFromUrl(env.config.REDIS_URL),
      prefix: bullPrefix(env.config),
    });
    await queueEvents.waitUntilReady();

    const dataSource = app.get<DataSource>(getDataSourceToken());
    const index = app.get(ChunkIndexRepository);
    for (const [name, fixture] of Object.entries(FIXTURES) as [FixtureName, Fixture][]) {
      const id = randomUUID();
      ids.set(name, id);
      await dataSource.query(
        `INSERT INTO documents (id, tenant, collection, title, status, size_bytes, mime_type, content_sha256)
         VALUES ($1, 'default', $2, $3, 'processing', $4, 'text/plain', 'x')`,
        [id, fixture.collection, fixture.title, Buffer.byteLength(fixture.content)],
      );
      await index.replaceChunks(DEFAULT_TENANT, id, [
        {
          content: fixture.content,
          language: fixture.language,
          startOffset: 0,
          endOffset: fixture.content.length,
        },
      ]);
    }
  });

  after(async () => {
    await queueEvents?.close();
    await app?.close();
    await env?.cleanup();
  });

  it('finds the English document that answers an English question, cites it and highlights the match', async () => {
    const result = await ask('How do I reset my forgotten password?');
    assert.equal(nameOf(result.sources[0].document_id), 'passwordReset');
    assert.equal(result.sources[0].title, 'Resetting your password');
    assert.match(result.sources[0].snippet, /\*\*password\*\*/iu);
    assert.match(result.answer, /To reset a forgotten password/u);
    assert.ok(result.answer.length <= 600);
    assert.ok(result.durationMs >= 0);
  });

  it('finds the Russian document through inflected forms ("паролей" for "пароль", "пароля")', async () => {
    const result = await ask('где сброс паролей');
    assert.equal(nameOf(result.sources[0].document_id), 'russianAccess');
    assert.ok(!result.sources.some((source) => nameOf(source.document_id) === 'russianShipping'));
    assert.match(result.sources[0].snippet, /\*\*пароль\*\*|\*\*пароля\*\*/u);
    assert.match(result.answer, /пароля/u);
  });

  it('returns at most top_k sources, ordered by score, rounded to four decimals', async () => {
    const wide = await ask('password e-mail delivery orders', { topK: 10 });
    assert.ok(wide.sources.length >= 3, `expected several sources, got ${wide.sources.length}`);
    const scores = wide.sources.map((source) => source.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
    for (const score of scores) assert.equal(score, Math.round(score * 10_000) / 10_000);

    const narrow = await ask('password e-mail delivery orders', { topK: 2 });
    assert.equal(narrow.sources.length, 2);
    assert.deepEqual(
      narrow.sources.map((source) => source.chunk_id),
      wide.sources.slice(0, 2).map((source) => source.chunk_id),
    );
  });

  it('searches only the requested collection', async () => {
    const everywhere = await ask('password', { topK: 10 });
    assert.ok(everywhere.sources.some((source) => nameOf(source.document_id) === 'rotation'));
    assert.ok(everywhere.sources.some((source) => nameOf(source.document_id) === 'passwordReset'));

    const internal = await ask('password', { topK: 10, collection: 'internal' });
    assert.deepEqual(
      internal.sources.map((source) => nameOf(source.document_id)),
      ['rotation'],
    );
  });

  it('honours a quoted phrase and an -excluded word', async () => {
    const phrase = await ask('"reset link"', { topK: 10 });
    assert.deepEqual(
      phrase.sources.map((source) => nameOf(source.document_id)),
      ['passwordReset'],
    );
    const excluded = await ask('password -rotation', { topK: 10 });
    assert.ok(excluded.sources.length > 0);
    assert.ok(!excluded.sources.some((source) => nameOf(source.document_id) === 'rotation'));
  });

  it('matches chunks indexed with the simple configuration by surface form, ignoring stop words', async () => {
    const found = await ask('Where are the database passwords?', { collection: 'ops' });
    assert.deepEqual(
      found.sources.map((source) => nameOf(source.document_id)),
      ['helmNotes'],
    );
    const stopWordsOnly = await ask('the of for', { collection: 'ops' });
    assert.deepEqual(stopWordsOnly.sources, []);
  });

  it('consumes with the concurrency from the queue settings', () => {
    assert.equal(app.get(AnswerQueryProcessor).worker.concurrency, env.config.QUERY_CONCURRENCY);
  });

  it('drops a job that waited in the queue longer than QUERY_TIMEOUT_MS: no gateway waits for it', async () => {
    const job = await app
      .get(JobProducer)
      .enqueue(
        JobName.AnswerQuery,
        { tenant: DEFAULT_TENANT, query: 'reset password', topK: 5, collection: null, corpusVersion: 1 },
        { removeOnFail: false, timestamp: Date.now() - env.config.QUERY_TIMEOUT_MS - 1_000 },
      );
    await assert.rejects(job.waitUntilFinished(queueEvents, 15_000), /expired: waited \d+ ms in the queue/);
  });

  it('answers that nothing matches, with no sources, when no word of the question is indexed', async () => {
    const result = await ask('zebra xylophone quasar');
    assert.equal(result.answer, NO_MATCH_ANSWER);
    assert.deepEqual(result.sources, []);
  });
});
