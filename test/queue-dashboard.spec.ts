import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

const ADMIN_USER = 'operator';
const ADMIN_PASSWORD = 'correct horse battery staple';
/** Small, so that the rate-limit test reaches it in a few requests. */
const FAILED_LOGINS_PER_MINUTE = 5;

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = basic(ADMIN_USER, ADMIN_PASSWORD);

describe('queue dashboard /admin/queues', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  /** Every kind of sub-path the board serves: page, client-side routes, JSON API (read and write), assets. */
  let subPaths: { method: string; path: string }[];

  before(async () => {
    env = await createTestEnvironment({
      ADMIN_USER,
      ADMIN_PASSWORD,
      ANONYMOUS_RATE_LIMIT_PER_MINUTE: String(FAILED_LOGINS_PER_MINUTE),
    });
    gateway = await startTestGateway(env.config);
    const page = await fetch(`${gateway.baseUrl}/admin/queues`, { headers: { authorization: ADMIN } });
    assert.equal(page.status, 200, await page.clone().text());
    const html = await page.text();
    // Asset links are relative to <base href="/admin/queues/">.
    const script = /<script[^>]* src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script !== undefined, 'the page links its main script under static/');
    const asset = `/admin/queues/${script}`;
    subPaths = [
      { method: 'GET', path: '/admin/queues' },
      { method: 'GET', path: '/admin/queues/queue/ingest' },
      { method: 'GET', path: '/admin/queues/api/queues' },
      { method: 'GET', path: '/admin/queues/api/redis/stats' },
      { method: 'GET', path: '/admin/queues/api/queues/ingest/workers' },
      { method: 'PUT', path: '/admin/queues/api/queues/ingest/retry/failed' },
      { method: 'PUT', path: '/admin/queues/api/queues/ingest/clean/completed' },
      { method: 'GET', path: asset },
    ];
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  const request = (method: string, path: string, authorization?: string): Promise<Response> =>
    fetch(`${gateway.baseUrl}${path}`, {
      method,
      headers: authorization === undefined ? {} : { authorization },
    });

  it('answers 401 with a Basic challenge on every sub-path without credentials', async () => {
    for (const { method, path } of subPaths) {
      const response = await request(method, path);
      assert.equal(response.status, 401, `${method} ${path}`);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm=/, `${method} ${path}`);
      const body = (await response.json()) as { statusCode: number; message: string };
      assert.equal(body.statusCode, 401);
    }
  });

  it('serves every sub-path with the right credentials', async () => {
    for (const { method, path } of subPaths) {
      const response = await request(method, path, ADMIN);
      assert.equal(response.status, 200, `${method} ${path}`);
      await response.arrayBuffer();
    }
    const queues = (await (await request('GET', '/admin/queues/api/queues', ADMIN)).json()) as {
      queues: { name: string }[];
    };
    assert.deepEqual(queues.queues.map((queue) => queue.name).sort(), ['ingest', 'query']);
  });

  it("shows each ingest job's tenant in its data", async () => {
    const token = await createApiKey(env.config, { tenant: 'acme' });
    const upload = await fetch(`${gateway.baseUrl}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Tenant on the board', content: 'Shown with its tenant.' }),
    });
    assert.equal(upload.status, 202);
    const { id } = (await upload.json()) as { id: string };
    // No ingest worker runs here: the job waits, as the board's "waiting" tab lists it.
    const board = (await (
      await request('GET', '/admin/queues/api/queues?activeQueue=ingest&status=waiting&page=1', ADMIN)
    ).json()) as { queues: { name: string; jobs: { id: string; data: Record<string, unknown> }[] }[] };
    const job = board.queues.find((queue) => queue.name === 'ingest')?.jobs.find((entry) => entry.id === id);
    assert.ok(job !== undefined, 'the upload is on the board');
    assert.equal(job.data.tenant, 'acme');
    assert.equal(job.data.documentId, id);
  });

  it('counts wrong passwords against the address, and past the limit refuses even the right one', async () => {
    assert.equal(
      (await request('GET', '/admin/queues/api/queues', basic(ADMIN_USER, 'guess-0'))).status,
      401,
    );
    for (let guess = 1; guess < FAILED_LOGINS_PER_MINUTE; guess++) {
      const response = await request('GET', '/admin/queues/api/queues', basic(ADMIN_USER, `guess-${guess}`));
      assert.equal(response.status, 401, `guess ${guess}`);
    }
    const blocked = await request('GET', '/admin/queues/api/queues', basic('admin', 'admin'));
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
    const right = await request('GET', '/admin/queues/api/queues', ADMIN);
    assert.equal(right.status, 429, 'a right guess past the limit is not told apart from a wrong one');
  });
});

describe('queue dashboard without ADMIN_USER / ADMIN_PASSWORD', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;

  before(async () => {
    env = await createTestEnvironment();
    gateway = await startTestGateway(env.config);
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  it('is off: 404 on the page and its API, whatever the credentials', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      for (const authorization of [undefined, basic('admin', '')]) {
        const response = await fetch(`${gateway.baseUrl}${path}`, {
          headers: authorization === undefined ? {} : { authorization },
        });
        assert.equal(response.status, 404, path);
      }
    }
  });
});
