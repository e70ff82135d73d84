import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_TENANT, JobName, QueueName, RedisKey, SupportedMimeType } from '#libs/contracts';
import {
  corruptPdf,
  docxWithText,
  ENGLISH_PARAGRAPHS,
  htmlPage,
  markdownDocument,
  pdfWithoutText,
  pdfWithText,
  RUSSIAN_PARAGRAPHS,
} from './support/fixtures.js';
import { queueSettings } from '#libs/queues';
import { RedisClient } from '#libs/redis';
import { IngestProcessor } from '../apps/ingest-worker/src/ingest/ingest.processor.js';
import { IngestHarness } from './support/ingest-harness.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

interface ChunkRow {
  id: string;
  ordinal: number;
  content: string;
  language: string;
  start_offset: number;
  end_offset: number;
}

/** About 1,000 characters: two or more chunks at CHUNK_SIZE 400. */
const ENGLISH_TEXT = [...ENGLISH_PARAGRAPHS, ...ENGLISH_PARAGRAPHS.map((p) => `Again: ${p}`)];

describe('ingest worker', () => {
  let env: TestEnvironment;
  let harness: IngestHarness;

  before(async () => {
    env = await createTestEnvironment({
      CHUNK_SIZE: '400',
      CHUNK_OVERLAP: '80',
      INGEST_ATTEMPTS: '3',
      INGEST_CONCURRENCY: '3',
      INGEST_BATCH_SIZE: '6',
    });
    harness = await IngestHarness.start(env.config);
    // A real Postgres error on chunk insert for listed documents, through their `failing_attempts`-th
    // attempt: the kind of failure a retry can outlive. Counting attempts (documents.attempts, set
    // before the insert) rather than clearing the row at the right moment keeps the test free of timing.
    await harness.sql.query(`
      CREATE TABLE test_failing_documents (document_id uuid PRIMARY KEY, failing_attempts int NOT NULL);
      CREATE FUNCTION test_fail_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (
          SELECT 1 FROM test_failing_documents f JOIN documents d ON d.id = f.document_id
          WHERE f.document_id = NEW.document_id AND d.attempts <= f.failing_attempts
        ) THEN
          RAISE EXCEPTION 'simulated storage failure';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_fail_chunks BEFORE INSERT ON chunks FOR EACH ROW EXECUTE FUNCTION test_fail_chunks();`);
  });
  after(async () => {
    await harness?.close();
    await env?.cleanup();
  });

  const chunksOf = async (id: string) =>
    (
      await harness.sql.query<ChunkRow>(
        `SELECT id, ordinal, content, language, start_offset, end_offset
         FROM chunks WHERE document_id = $1 ORDER BY ordinal`,
        [id],
      )
    ).rows;

  const termCountOf = async (id: string) =>
    Number(
      (
        await harness.sql.query<{ count: string }>(
          `SELECT count(*) FROM chunk_terms t JOIN chunks c ON c.id = t.chunk_id WHERE c.document_id = $1`,
          [id],
        )
      ).rows[0].count,
    );

  /** The row is settled a moment before BullMQ moves the job to `failed`. */
  const failedJob = async (id: string) => {
    const queue = harness.producer.queue(QueueName.Ingest);
    await waitFor(async () => ((await queue.getJobState(id)) === 'failed' ? true : undefined));
    const job = await harness.job(id);
    assert.ok(job);
    return job;
  };

  it('runs the worker with the concurrency and lock duration of the queue settings table', () => {
    const { worker } = harness.app.get(IngestProcessor, { strict: false });
    const settings = queueSettings(env.config)[QueueName.Ingest];
    // Jobs in hand (INGEST_BATCH_SIZE), not extraction threads (INGEST_CONCURRENCY).
    assert.equal(settings.concurrency, 6);
    assert.equal(worker.concurrency, settings.concurrency);
    assert.equal(worker.opts.lockDuration, settings.lockDurationMs);
    assert.equal(worker.isRunning(), true);
  });

  it('indexes text, Markdown, HTML, PDF and DOCX uploads: queued → processing → indexed, with chunks', async () => {
    const plain = `${ENGLISH_TEXT.join('\n\n')}\n`;
    const uploads = {
      txt: await harness.upload(plain, SupportedMimeType.PlainText),
      md: await harness.upload(markdownDocument('Password guide', ENGLISH_TEXT), SupportedMimeType.Markdown),
      html: await harness.upload(htmlPage('Password guide', ENGLISH_TEXT), SupportedMimeType.Html),
      pdf: await harness.upload(await pdfWithText(ENGLISH_TEXT), SupportedMimeType.Pdf),
      docx: await harness.upload(await docxWithText(ENGLISH_TEXT, 'Password guide'), SupportedMimeType.Docx),
    };
    for (const [type, id] of Object.entries(uploads)) {
      const document = await harness.waitForStatus(id, 'indexed');
      assert.deepEqual(await harness.statusPath(id), ['queued', 'processing', 'indexed'], type);
      assert.equal(document.attempts, 1, type);
      assert.equal(document.progress, 100, type);
      assert.equal(document.error, null, type);
      assert.ok(document.indexedAt instanceof Date, type);

      const chunks = await chunksOf(id);
      assert.ok(chunks.length >= 2, `${type}: ${chunks.length} chunks`);
      assert.equal(document.chunkCount, chunks.length, type);
      assert.deepEqual(
        chunks.map((chunk) => chunk.ordinal),
        chunks.map((_, index) => index),
        type,
      );
      for (const [index, chunk] of chunks.entries()) {
        assert.equal(chunk.language, 'english', `${type} chunk ${index}`);
        assert.ok(chunk.content.length <= 400, `${type} chunk ${index} is ${chunk.content.length} long`);
        assert.equal(chunk.end_offset - chunk.start_offset, chunk.content.length, `${type} chunk ${index}`);
        if (index > 0) {
          const previous = chunks[index - 1];
          assert.ok(chunk.start_offset > previous.start_offset, `${type} chunk ${index} does not advance`);
          assert.ok(chunk.start_offset < previous.end_offset, `${type} chunk ${index} does not overlap`);
        }
      }
      const all = chunks.map((chunk) => chunk.content).join('\n');
      // PDF text keeps the page's line breaks.
      assert.match(all, /reset link\s+is\s+sent\s+to\s+the\s+email address/, type);
      assert.ok((await termCountOf(id)) > 0, `${type}: no postings`);

      // The row is indexed a moment before the job reports completion (event, then result).
      const queue = harness.producer.queue(QueueName.Ingest);
      await waitFor(async () => ((await queue.getJobState(id)) === 'completed' ? true : undefined));
      const job = await harness.job(id);
      assert.equal(job?.returnvalue.chunkCount, chunks.length, type);
      assert.equal(typeof job?.returnvalue.durationMs, 'number', type);
      assert.equal(job?.progress, 100, type);
    }

    // Offsets point into the extracted text; for plain text that is the upload itself.
    for (const chunk of await chunksOf(uploads.txt)) {
      assert.equal(plain.slice(chunk.start_offset, chunk.end_offset), chunk.content);
    }
    const markup = (await chunksOf(uploads.md)).map((chunk) => chunk.content).join('\n');
    assert.doesNotMatch(markup, /\]\(https|^#|\*\*/m);
    const html = (await chunksOf(uploads.html)).map((chunk) => chunk.content).join('\n');
    assert.doesNotMatch(html, /<p>|trackingSecret|font-family|example\.com/);
  });

  it('indexes Russian text with the russian configuration, so inflected forms match', async () => {
    const text = await harness.upload(RUSSIAN_PARAGRAPHS.join('\n\n'), SupportedMimeType.PlainText);
    const docx = await harness.upload(await docxWithText(RUSSIAN_PARAGRAPHS), SupportedMimeType.Docx);
    // Declared English wins over the script.
    const declared = await harness.upload(RUSSIAN_PARAGRAPHS[0], SupportedMimeType.PlainText, { lang: 'en' });
    for (const id of [text, docx, declared]) await harness.waitForStatus(id, 'indexed');

    for (const id of [text, docx]) {
      const chunks = await chunksOf(id);
      assert.ok(chunks.length > 0);
      assert.deepEqual(new Set(chunks.map((chunk) => chunk.language)), new Set(['russian']));
      // "паролей" (genitive plural) finds "пароль" only through Russian stemming.
      const { rows } = await harness.sql.query(
        `SELECT 1 FROM chunks WHERE document_id = $1 AND tsv @@ to_tsquery('russian', 'паролей')`,
        [id],
      );
      assert.ok(rows.length > 0, 'stemmed Russian query found nothing');
    }
    assert.deepEqual(
      (await chunksOf(declared)).map((chunk) => chunk.language),
      ['english'],
    );
  });

  it('bumps the corpus version and emits corpus.changed after the chunks are committed', async () => {
    const id = await harness.upload('The corpus changes when this is indexed.', SupportedMimeType.PlainText);
    const event = await harness.waitForEvent(id, 'indexed');
    assert.equal(event.namespace, env.config.REDIS_KEY_PREFIX);
    assert.equal(event.tenant, DEFAULT_TENANT);
    const stored = await harness.app
      .get(RedisClient, { strict: false })
      .hget(RedisKey.CorpusVersions, DEFAULT_TENANT);
    assert.ok(
      Number(stored) >= event.version && event.version > 0,
      `stored ${stored}, event ${event.version}`,
    );
    // The event follows the commit: whoever hears it already reads the indexed document.
    assert.equal((await harness.documents.findById(DEFAULT_TENANT, id))?.status, 'indexed');
  });

  it('replaces the chunks when the job runs again, leaving no duplicates', async () => {
    const id = await harness.upload(ENGLISH_TEXT.join('\n\n'), SupportedMimeType.PlainText);
    await harness.waitForStatus(id, 'indexed');
    const before = await chunksOf(id);
    const termsBefore = await termCountOf(id);

    // The row is indexed a moment before BullMQ completes the job. An active job cannot be removed
    // and a job id that still exists is silently ignored by `add`, so removing it any earlier would
    // make the re-run below a no-op (the test used to time out that way on a busy machine).
    const queue = harness.producer.queue(QueueName.Ingest);
    await waitFor(async () => ((await queue.getJobState(id)) === 'completed' ? true : undefined));
    assert.equal(await queue.remove(id), 1);
    await harness.producer.enqueue(
      JobName.IngestDocument,
      { tenant: DEFAULT_TENANT, documentId: id },
      { jobId: id },
    );
    await waitFor(async () =>
      (await harness.documents.findById(DEFAULT_TENANT, id))?.attempts === 2 ? true : undefined,
    );
    const document = await harness.waitForStatus(id, 'indexed');
    await waitFor(async () => ((await queue.getJobState(id)) === 'completed' ? true : undefined));

    const after = await chunksOf(id);
    assert.equal(document.chunkCount, before.length);
    assert.deepEqual(
      after.map(({ ordinal, content, start_offset, end_offset }) => [
        ordinal,
        content,
        start_offset,
        end_offset,
      ]),
      before.map(({ ordinal, content, start_offset, end_offset }) => [
        ordinal,
        content,
        start_offset,
        end_offset,
      ]),
    );
    const oldIds = new Set(before.map((chunk) => chunk.id));
    assert.ok(
      after.every((chunk) => !oldIds.has(chunk.id)),
      'old chunk rows survived',
    );
    assert.equal(await termCountOf(id), termsBefore);
    const { rows } = await harness.sql.query<{ count: string }>(
      `SELECT count(*) FROM chunks WHERE document_id = $1`,
      [id],
    );
    assert.equal(Number(rows[0].count), before.length);
  });

  it('fails a corrupt PDF at once with a readable error, without retrying', async () => {
    const id = await harness.upload(corruptPdf(), SupportedMimeType.Pdf);
    const document = await harness.waitForStatus(id, 'failed');
    assert.equal(document.error, 'The file is not a readable PDF (invalid PDF structure)');
    assert.equal(document.attempts, 1);
    assert.deepEqual(await harness.statusPath(id), ['queued', 'processing', 'failed']);
    const job = await failedJob(id);
    assert.equal(job.attemptsMade, 1);
    await harness.waitForEvent(id, 'failed');
  });

  it('fails a PDF without a text layer with a message that says so', async () => {
    const id = await harness.upload(await pdfWithoutText(), SupportedMimeType.Pdf);
    const document = await harness.waitForStatus(id, 'failed');
    assert.match(document.error ?? '', /PDF has no extractable text/);
    assert.equal(document.attempts, 1);
  });

  it('retries a failing attempt, back in queued meanwhile, and ends failed after INGEST_ATTEMPTS', async () => {
    const id = await harness.store(ENGLISH_TEXT[0], SupportedMimeType.PlainText);
    await harness.sql.query('INSERT INTO test_failing_documents VALUES ($1, 1000)', [id]);
    await harness.producer.enqueue(
      JobName.IngestDocument,
      { tenant: DEFAULT_TENANT, documentId: id },
      { jobId: id },
    );

    const document = await harness.waitForStatus(id, 'failed');
    assert.equal(document.attempts, 3);
    assert.equal(document.error, 'Indexing failed after 3 attempts: simulated storage failure');
    assert.deepEqual(await harness.statusPath(id), [
      'queued',
      'processing',
      'queued',
      'processing',
      'queued',
      'processing',
      'failed',
    ]);
    assert.equal((await failedJob(id)).attemptsMade, 3);
    assert.equal((await chunksOf(id)).length, 0);
  });

  it('indexes the document when the failure clears before the last attempt', async () => {
    const id = await harness.store(ENGLISH_TEXT[0], SupportedMimeType.PlainText);
    await harness.sql.query('INSERT INTO test_failing_documents VALUES ($1, 1)', [id]);
    await harness.producer.enqueue(
      JobName.IngestDocument,
      { tenant: DEFAULT_TENANT, documentId: id },
      { jobId: id },
    );

    const document = await harness.waitForStatus(id, 'indexed');
    assert.equal(document.attempts, 2);
    assert.equal(document.error, null);
    assert.equal((await chunksOf(id)).length, 1);
    // Between the attempts the document was back in queued, showing the first attempt's error.
    assert.deepEqual(await harness.statusPath(id), [
      'queued',
      'processing',
      'queued',
      'processing',
      'indexed',
    ]);
    const { rows } = await harness.sql.query<{ error: string | null }>(
      `SELECT error FROM test_status_log WHERE document_id = $1 AND new_status = 'queued' ORDER BY seq`,
      [id],
    );
    assert.deepEqual(
      rows.map((row) => row.error),
      ['Attempt 1 of 3 failed: simulated storage failure'],
    );
  });

  it('completes quietly when the document was deleted before its job ran', async () => {
    const id = await harness.store('Deleted before indexing.', SupportedMimeType.PlainText);
    await harness.documents.delete(DEFAULT_TENANT, id);
    await harness.producer.enqueue(
      JobName.IngestDocument,
      { tenant: DEFAULT_TENANT, documentId: id },
      { jobId: id },
    );
    const queue = harness.producer.queue(QueueName.Ingest);
    await waitFor(async () => ((await queue.getJobState(id)) === 'completed' ? true : undefined));
    assert.equal((await harness.job(id))?.returnvalue.chunkCount, 0);
  });
});
