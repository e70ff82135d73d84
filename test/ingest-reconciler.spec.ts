import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_TENANT, JobName, QueueName, SupportedMimeType } from '#libs/contracts';
import { corruptPdf } from './support/fixtures.js';
import { IngestHarness } from './support/ingest-harness.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

describe('ingest reconciler', () => {
  let env: TestEnvironment;
  let harness: IngestHarness;

  before(async () => {
    env = await createTestEnvironment();
    harness = await IngestHarness.start(env.config);
  });
  after(async () => {
    await harness?.close();
    await env?.cleanup();
  });

  const queue = () => harness.producer.queue(QueueName.Ingest);
  /** As if the row had been committed a minute ago and nothing had happened since. */
  const age = (id: string) =>
    harness.sql.query(`UPDATE documents SET updated_at = now() - interval '1 minute' WHERE id = $1`, [id]);

  it('re-queues a queued document that has no job (committed, never enqueued) and it ends indexed', async () => {
    const id = await harness.store('Nobody enqueued this upload.', SupportedMimeType.PlainText);
    assert.equal(await queue().getJobState(id), 'unknown');

    const report = await harness.reconciler.reconcileOnce(0);
    assert.deepEqual(report, { published: [], requeued: [id], failed: [] });
    const document = await harness.waitForStatus(id, 'indexed');
    assert.equal(document.chunkCount, 1);
    assert.equal(document.attempts, 1);
  });

  it('leaves documents alone while they are fresh or their job is alive', async () => {
    const fresh = await harness.store('Just uploaded, job on its way.', SupportedMimeType.PlainText);
    assert.deepEqual(await harness.reconciler.reconcileOnce(), { published: [], requeued: [], failed: [] });

    await queue().pause();
    try {
      const waiting = await harness.upload('Waiting in the queue.', SupportedMimeType.PlainText);
      await age(waiting);
      await age(fresh);
      const report = await harness.reconciler.reconcileOnce();
      assert.deepEqual(report, { published: [], requeued: [fresh], failed: [] });
      assert.equal(await queue().getJobState(waiting), 'waiting');
    } finally {
      await queue().resume();
    }
    await harness.waitForStatus(fresh, 'indexed');
  });

  it('re-queues a pending document whose job finished without indexing it', async () => {
    const id = await harness.upload('Indexed once, then reset by hand.', SupportedMimeType.PlainText);
    await harness.waitForStatus(id, 'indexed');
    await waitFor(async () => ((await queue().getJobState(id)) === 'completed' ? true : undefined));
    // A row back in `queued` with its completed job still in Redis: a new job with the same id would be ignored.
    await harness.sql.query(`UPDATE documents SET status = 'queued' WHERE id = $1`, [id]);

    assert.deepEqual(await harness.reconciler.reconcileOnce(0), {
      published: [],
      requeued: [id],
      failed: [],
    });
    const document = await harness.waitForStatus(id, 'indexed');
    assert.equal(document.attempts, 2);
  });

  it('marks failed a pending document whose job failed for good without the worker recording it', async () => {
    const id = await harness.upload(corruptPdf(), SupportedMimeType.Pdf);
    await harness.waitForStatus(id, 'failed');
    await waitFor(async () => ((await queue().getJobState(id)) === 'failed' ? true : undefined));
    // As if the worker had died before writing the outcome: the job failed, the row still says processing.
    await harness.sql.query(`UPDATE documents SET status = 'processing', error = NULL WHERE id = $1`, [id]);

    assert.deepEqual(await harness.reconciler.reconcileOnce(0), {
      published: [],
      requeued: [],
      failed: [id],
    });
    const document = await harness.documents.findById(DEFAULT_TENANT, id);
    assert.equal(document?.status, 'failed');
    assert.equal(document?.error, 'Indexing failed: The file is not a readable PDF (invalid PDF structure)');
  });

  it('enqueues an orphan once when several reconcilers run at the same moment', async () => {
    const id = await harness.store('Three replicas find me at once.', SupportedMimeType.PlainText);
    await age(id);
    const reports = await Promise.all([1, 2, 3].map(() => harness.reconciler.reconcileOnce()));
    assert.deepEqual(
      reports.flatMap((report) => report.requeued),
      [id],
    );
    await harness.waitForStatus(id, 'indexed');
    const { rows } = await harness.sql.query<{ attempts: number }>(
      'SELECT attempts FROM documents WHERE id = $1',
      [id],
    );
    assert.equal(rows[0].attempts, 1);
  });

  it('survives Redis losing every job: all pending documents are enqueued again', async () => {
    await queue().pause();
    const ids = [
      await harness.upload('First upload lost with Redis.', SupportedMimeType.PlainText),
      await harness.upload('Second upload lost with Redis.', SupportedMimeType.PlainText),
    ];
    // What a Redis restart without persistence leaves: the rows, and no jobs.
    await queue().obliterate({ force: true });
    for (const id of ids) await age(id);
    await queue().resume();

    const report = await harness.reconciler.reconcileOnce();
    assert.deepEqual(new Set(report.requeued), new Set(ids));
    for (const id of ids) await harness.waitForStatus(id, 'indexed');
  });

  it('enqueues through the same job id the gateway uses, so a late gateway enqueue is a no-op', async () => {
    const id = await harness.store('Reconciler first, gateway second.', SupportedMimeType.PlainText);
    await harness.reconciler.reconcileOnce(0);
    await harness.producer.enqueue(
      JobName.IngestDocument,
      { tenant: DEFAULT_TENANT, documentId: id },
      { jobId: id },
    );
    await harness.waitForStatus(id, 'indexed');
    await waitFor(async () => ((await queue().getJobState(id)) === 'completed' ? true : undefined));
    assert.equal((await harness.documents.findById(DEFAULT_TENANT, id))?.attempts, 1);
  });
});
