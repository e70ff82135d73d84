import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { DEFAULT_TENANT, QueueName, SupportedMimeType } from '#libs/contracts';
import type { DocumentEntity } from '#libs/database';
import {
  deeplyNestedHtml,
  pdfWithHugeContentStream,
  pdfWithPages,
  singleLineText,
  zipBombDocx,
} from './support/hostile-files.js';
import { IngestHarness } from './support/ingest-harness.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const TIMEOUT_MS = 10_000;
/** Large chunks keep the 10 MiB text's database write small: the parsers are under test here. */
const CHUNK_SIZE = 20_000;
const MEMORY_MB = 128;
const MiB = 2 ** 20;
/** What a limit-stopped document says. */
const LIMIT_ERROR = new RegExp(
  `^Reading the document (took longer than ${TIMEOUT_MS / 1000} s|needed more than ${MEMORY_MB} MB of memory) and was stopped$`,
);

/**
 * Files built to hurt the parsers, through the real ingest worker with its extraction sandbox
 * (EXTRACTION_TIMEOUT_MS 10 s, EXTRACTION_MEMORY_MB 128). Each must end `indexed` or `failed`
 * with a readable error, within the limits, on the first attempt, without stopping other work.
 */
describe('hostile files', () => {
  let env: TestEnvironment;
  let harness: IngestHarness;

  before(async () => {
    env = await createTestEnvironment({
      EXTRACTION_TIMEOUT_MS: String(TIMEOUT_MS),
      EXTRACTION_MEMORY_MB: String(MEMORY_MB),
      INGEST_CONCURRENCY: '2',
      CHUNK_SIZE: String(CHUNK_SIZE),
    });
    harness = await IngestHarness.start(env.config);
  });
  after(async () => {
    await harness?.close();
    await env?.cleanup();
  });

  /** Waits for the end state and reports what happened and how long it took. */
  async function settle(t: TestContext, id: string, what: string): Promise<DocumentEntity> {
    const startedAt = Date.now();
    const document = await waitForEnd(id);
    t.diagnostic(
      `${what}: ${document.status} after ${Date.now() - startedAt} ms, ${document.attempts} attempt(s), ` +
        `${document.chunkCount} chunks, error ${JSON.stringify(document.error)}`,
    );
    assert.equal(document.attempts, 1, 'a hostile file is not retried');
    return document;
  }

  async function waitForEnd(id: string): Promise<DocumentEntity> {
    const deadline = Date.now() + 4 * TIMEOUT_MS;
    for (;;) {
      const document = await harness.documents.findById(DEFAULT_TENANT, id);
      if (document?.status === 'indexed' || document?.status === 'failed') return document;
      if (Date.now() > deadline) throw new Error(`document ${id} still ${document?.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('refuses a DOCX zip bomb from its directory, before inflating it', async (t) => {
    const bomb = zipBombDocx(200 * MiB);
    t.diagnostic(`zip bomb: ${bomb.length} bytes on disk, 200 MiB declared inside`);
    const id = await harness.upload(bomb, SupportedMimeType.Docx);
    const document = await settle(t, id, 'DOCX zip bomb');
    assert.equal(document.status, 'failed');
    assert.equal(
      document.error,
      `The DOCX document expands to 200 MB, more than the ${MEMORY_MB} MB allowed`,
    );
  });

  it('stops HTML nested a million deep at the time limit while other documents are indexed', async (t) => {
    const poison = await harness.upload(deeplyNestedHtml(1_000_000), SupportedMimeType.Html);
    await harness.waitForStatus(poison, 'processing');
    // The poison holds one extraction thread; the queue and the worker's event loop go on: the
    // ordinary upload's job is taken while the poison is still being read (an event loop blocked
    // by the parser could not even fetch it), and it ends indexed.
    const ordinary = await harness.upload('An ordinary note about passwords.', SupportedMimeType.PlainText);
    const indexed = await harness.waitForStatus(ordinary, 'indexed', 6 * TIMEOUT_MS);
    t.diagnostic(`ordinary document indexed beside the poison: ${indexed.chunkCount} chunk`);

    const document = await settle(t, poison, 'HTML nested 1,000,000 deep');
    assert.equal(document.status, 'failed');
    assert.match(document.error ?? '', LIMIT_ERROR);
    // Failed once, for good: its lock was renewed throughout (not stalled and retried).
    await waitFor(async () =>
      (await harness.producer.queue(QueueName.Ingest).getJobState(poison)) === 'failed' ? true : undefined,
    );
    const [poisonJob, ordinaryJob] = [await harness.job(poison), await harness.job(ordinary)];
    assert.equal(poisonJob?.attemptsMade, 1);
    assert.ok(
      (ordinaryJob?.processedOn ?? Infinity) < (poisonJob?.finishedOn ?? 0),
      `the ordinary job started at ${ordinaryJob?.processedOn}, the poison ended at ${poisonJob?.finishedOn}`,
    );
  });

  it('ends a PDF whose content stream inflates to 150 MB within the limits', async (t) => {
    const pdf = pdfWithHugeContentStream(150 * MiB);
    t.diagnostic(`PDF: ${pdf.length} bytes on disk, one content stream of 150 MiB inflated`);
    const id = await harness.upload(pdf, SupportedMimeType.Pdf);
    const document = await settle(t, id, 'PDF with a 150 MiB content stream');
    if (document.status === 'failed') assert.match(document.error ?? '', LIMIT_ERROR);
    else assert.ok(document.chunkCount > 0);
  });

  it('indexes a PDF of 2,000 pages, or stops it at a limit', async (t) => {
    const pdf = await pdfWithPages(2_000);
    t.diagnostic(`PDF: 2,000 pages, ${pdf.length} bytes`);
    const id = await harness.upload(pdf, SupportedMimeType.Pdf);
    const document = await settle(t, id, 'PDF of 2,000 pages');
    if (document.status === 'failed') {
      assert.match(document.error ?? '', LIMIT_ERROR);
    } else {
      const { rows } = await harness.sql.query<{ content: string }>(
        'SELECT content FROM chunks WHERE document_id = $1 ORDER BY ordinal DESC LIMIT 1',
        [id],
      );
      assert.match(rows[0].content, /Page 2000 explains password rotation\.$/);
    }
  });

  it('indexes 10 MiB of text on a single line, every chunk within CHUNK_SIZE, or stops it at a limit', async (t) => {
    const text = singleLineText(10 * MiB);
    const id = await harness.upload(text, SupportedMimeType.PlainText);
    const document = await settle(t, id, '10 MiB single-line text');
    if (document.status === 'failed') {
      assert.match(document.error ?? '', LIMIT_ERROR);
      return;
    }
    const { rows } = await harness.sql.query<{ count: string; longest: number; last_end: number }>(
      'SELECT count(*), max(length(content)) AS longest, max(end_offset) AS last_end FROM chunks WHERE document_id = $1',
      [id],
    );
    assert.equal(Number(rows[0].count), document.chunkCount);
    assert.ok(document.chunkCount > (10 * MiB) / CHUNK_SIZE, `${document.chunkCount} chunks`);
    assert.ok(rows[0].longest <= CHUNK_SIZE);
    assert.equal(rows[0].last_end, text.trimEnd().length, 'text lost at the end');
  });

  it('indexes two words 10 MiB of blanks apart (a line end search that used to take hours)', async (t) => {
    const text = `first${' '.repeat(10 * MiB)}last`;
    const id = await harness.upload(text, SupportedMimeType.PlainText);
    const document = await settle(t, id, 'two words, 10 MiB of blanks between');
    assert.equal(document.status, 'indexed');
    const { rows } = await harness.sql.query<{ content: string }>(
      'SELECT content FROM chunks WHERE document_id = $1 ORDER BY ordinal',
      [id],
    );
    assert.deepEqual(
      rows.map((row) => row.content),
      ['first', 'last'],
    );
  });
});
