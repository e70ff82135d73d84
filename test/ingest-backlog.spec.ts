import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { QueueName } from '#libs/contracts';
import { JobProducer } from '#libs/queues';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

const PER_TENANT = 3;
const ALL_TENANTS = 5;
/** Longer than IngestBacklog's 250 ms reading, so the next upload sees the latest count. */
const READING_REFRESH_MS = 400;

/**
 * The two ingest limits (docs/adr/0010-ingest-fairness-by-tenant-cap.md), with no ingest worker
 * running so that every accepted upload stays queued: a tenant at INGEST_MAX_QUEUED_PER_TENANT
 * gets 429 while other tenants go on; the whole queue at INGEST_MAX_WAITING gets 503. Both come
 * with Retry-After and store nothing.
 */
describe('ingest backlog limits', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let bulk: string;
  let other: string;

  before(async () => {
    env = await createTestEnvironment({
      INGEST_MAX_QUEUED_PER_TENANT: String(PER_TENANT),
      INGEST_MAX_WAITING: String(ALL_TENANTS),
    });
    gateway = await startTestGateway(env.config);
    bulk = await createApiKey(env.config, { tenant: 'bulk' });
    other = await createApiKey(env.config, { tenant: 'other' });
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  function upload(token: string, title: string, idempotencyKey?: string): Promise<Response> {
    return fetch(`${gateway.baseUrl}/documents`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
      },
      body: JSON.stringify({ title, content: `The text of ${title}.` }),
    });
  }

  async function listed(token: string): Promise<string[]> {
    await sleep(1_100); // the list is served from a cache at most a second old
    const response = await fetch(`${gateway.baseUrl}/documents?limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await response.json()) as { items: { title: string }[] };
    return page.items.map((item) => item.title).sort();
  }

  const waitingJobs = () => gateway.app.get(JobProducer).queue(QueueName.Ingest).getWaitingCount();

  it('refuses a tenant past its queued cap with 429 and Retry-After, stores nothing, and still answers its idempotent repeats', async () => {
    for (let i = 0; i < PER_TENANT; i++)
      assert.equal((await upload(bulk, `bulk ${i}`, `bulk-key-${i}`)).status, 202);

    const refused = await upload(bulk, 'bulk over the cap');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After is set');
    const body = (await refused.json()) as { message: string };
    assert.match(body.message, /INGEST_MAX_QUEUED_PER_TENANT/);
    assert.match(body.message, /nothing was stored/);

    const repeat = await upload(bulk, 'bulk 0', 'bulk-key-0');
    assert.equal(repeat.status, 200, 'an idempotent repeat of an accepted upload is not refused');

    assert.deepEqual(await listed(bulk), ['bulk 0', 'bulk 1', 'bulk 2']);
    assert.equal(await waitingJobs(), PER_TENANT);
  });

  it("takes another tenant's uploads while the first is at its cap", async () => {
    assert.equal((await upload(other, 'other 0')).status, 202);
    assert.equal((await upload(other, 'other 1')).status, 202);
    assert.deepEqual(await listed(other), ['other 0', 'other 1']);
  });

  it('refuses every upload with 503 and Retry-After once INGEST_MAX_WAITING jobs wait, and stores nothing', async () => {
    assert.equal(await waitingJobs(), ALL_TENANTS);
    await sleep(READING_REFRESH_MS);
    const refused = await upload(other, 'other over the backlog');
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After is set');
    assert.match(((await refused.json()) as { message: string }).message, /INGEST_MAX_WAITING/);
    assert.deepEqual(await listed(other), ['other 0', 'other 1']);
    assert.equal(await waitingJobs(), ALL_TENANTS);
  });

  it('takes uploads again once the backlog drains', async () => {
    await gateway.app.get(JobProducer).queue(QueueName.Ingest).drain();
    await sleep(READING_REFRESH_MS);
    assert.equal((await upload(other, 'other 2')).status, 202);
  });
});
