import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, type HeadlessBrowser } from './support/browser.js';
import { corruptPdf, ENGLISH_PARAGRAPHS } from './support/fixtures.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { IngestHarness } from './support/ingest-harness.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

const ADMIN_USER = 'operator';
const ADMIN_PASSWORD = 'browser-test-password';
/** The screenshots land here (dist/ is not committed); docs/images/queue-dashboard.png is one of them. */
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? join(process.cwd(), 'dist', 'screenshots');
/** The board polls every few seconds; a busy 2-core machine can take a while to render. */
const UI_TIMEOUT_MS = 60_000;

describe('queue dashboard in a headless browser', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let ingest: IngestHarness;
  let browser: HeadlessBrowser;
  let failedId: string;

  before(async () => {
    env = await createTestEnvironment({ ADMIN_USER, ADMIN_PASSWORD });
    gateway = await startTestGateway(env.config);
    ingest = await IngestHarness.start(env.config);
    const indexedId = await ingest.upload(ENGLISH_PARAGRAPHS.join('\n\n'), 'text/plain');
    failedId = await ingest.upload(corruptPdf(), 'application/pdf');
    await ingest.waitForStatus(indexedId, 'indexed');
    await ingest.waitForStatus(failedId, 'failed');
    browser = await launchBrowser({ username: ADMIN_USER, password: ADMIN_PASSWORD });
    await mkdir(SCREENSHOT_DIR, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await ingest?.close();
    await gateway?.close();
    await env?.cleanup();
  });

  it('logs in, shows both queues, the failed job and its error, and runs it again on retry', async () => {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);

    const overview = await page.goto(`${gateway.baseUrl}/admin/queues`);
    assert.equal(overview?.status(), 200);
    const sidebar = page.locator('#bull-board-sidebar');
    await sidebar.getByRole('link', { name: 'ingest', exact: true }).waitFor();
    await sidebar.getByRole('link', { name: 'query', exact: true }).waitFor();

    // Ingest queue → failed jobs → the job (its id is the document id).
    await sidebar.getByRole('link', { name: 'ingest', exact: true }).click();
    await page.getByRole('link', { name: /^failed/i }).click();
    await page.getByRole('link', { name: failedId }).click();
    await page.waitForURL(new RegExp(`/admin/queues/queue/ingest/${failedId}`));
    const error = page.getByText('DocumentUnreadableError: The file is not a readable PDF');
    await error.waitFor();
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'queue-dashboard.png') });

    // The operator fixes the cause (here: replaces the upload with readable text), then retries.
    await ingest.sql.query('UPDATE document_contents SET body = $1 WHERE document_id = $2', [
      Buffer.from(ENGLISH_PARAGRAPHS.join('\n\n')),
      failedId,
    ]);
    await ingest.sql.query(`UPDATE documents SET mime_type = 'text/plain' WHERE id = $1`, [failedId]);
    // The board's job buttons are icons without labels; retry is the refresh one. It asks first.
    await page.locator('button:has(svg.lucide-refresh-cw)').first().click();
    await page.getByText('Are you sure that you want to retry this job?').waitFor();
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();

    // The job runs again: it leaves `failed` and ends `completed`, and its document is indexed.
    await ingest.waitForStatus(failedId, 'indexed', UI_TIMEOUT_MS);
    await page.goto(`${gateway.baseUrl}/admin/queues/queue/ingest?status=completed`);
    await page.getByRole('link', { name: failedId }).waitFor();
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'queue-dashboard-after-retry.png') });
    const job = await ingest.job(failedId);
    assert.equal(await job?.getState(), 'completed');
    assert.equal(job?.attemptsMade, 2, 'the failed attempt and the retried one');
  });
});
