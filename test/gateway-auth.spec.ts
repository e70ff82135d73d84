import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ApiKeyStore } from '../apps/gateway/src/auth/api-key-store.js';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function sql(env: TestEnvironment, text: string, values: unknown[]): Promise<void> {
  const client = new pg.Client({ connectionString: env.config.DATABASE_URL });
  await client.connect();
  try {
    await client.query(text, values);
  } finally {
    await client.end();
  }
}

describe('gateway authentication and rate limits', () => {
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

  it('rejects a request without an API key with 401 and the JSON error shape', async () => {
    const response = await fetch(`${gateway.baseUrl}/documents`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    const body = (await response.json()) as { statusCode: number; error: string; message: string };
    assert.equal(body.statusCode, 401);
    assert.equal(body.error, 'Unauthorized');
    assert.match(body.message, /Authorization/);
  });

  it('refuses an upload or a query without a valid key before reading its body', async () => {
    // A body the gateway would answer 400 (malformed) or 413 (too large) for, had it read it.
    for (const [path, body] of [
      ['/documents', '{"title": "x", "content": '],
      ['/query', '{"query": '],
      ['/documents', JSON.stringify({ title: 'big', content: 'x'.repeat(env.config.MAX_UPLOAD_BYTES + 1) })],
    ] as const) {
      for (const headers of [{}, bearer('not-a-real-key')]) {
        const response = await fetch(`${gateway.baseUrl}${path}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body,
        });
        assert.equal(response.status, 401, `${path} ${body.slice(0, 20)}`);
      }
    }
  });

  it('rejects an unknown API key with 401', async () => {
    const response = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer('not-a-real-key') });
    assert.equal(response.status, 401);
    assert.match(((await response.json()) as { message: string }).message, /unknown or revoked/);
  });

  it('accepts a key created after boot at once, and stops accepting it within seconds of revocation', async () => {
    const name = 'soon-revoked';
    const token = await createApiKey(env.config, { name });
    const accepted = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) });
    assert.equal(accepted.status, 200);

    await sql(env, 'UPDATE api_keys SET revoked_at = now() WHERE name = $1', [name]);
    await waitFor(
      async () => {
        const response = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) });
        return response.status === 401 ? true : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 200, what: 'the revoked key to be refused' },
    );
  });

  it('leaves liveness public and unlimited', async () => {
    const response = await fetch(`${gateway.baseUrl}/health/live`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('ratelimit-limit'), null);
  });

  it('answers 429 with Retry-After and RateLimit headers once a key exceeds its limit', async () => {
    const token = await createApiKey(env.config, { rateLimit: 3 });
    for (const remaining of [2, 1, 0]) {
      const response = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('ratelimit-limit'), '3');
      assert.equal(response.headers.get('ratelimit-remaining'), String(remaining));
      await response.arrayBuffer();
    }
    const limited = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) });
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(limited.headers.get('ratelimit-limit'), '3');
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.ok(Number(limited.headers.get('ratelimit-reset')) >= 1);
    const body = (await limited.json()) as { statusCode: number; message: string };
    assert.equal(body.statusCode, 429);
    assert.match(body.message, /API key rate limit of 3 requests per minute/);
  });

  it('counts the limit per key: another key is still served', async () => {
    const token = await createApiKey(env.config, { rateLimit: 1 });
    const other = await createApiKey(env.config, { rateLimit: 1 });
    assert.equal((await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) })).status, 200);
    assert.equal((await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) })).status, 429);
    assert.equal((await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(other) })).status, 200);
  });

  it("shares a tenant's own limit among all its keys; other tenants keep their budget", async () => {
    const first = await createApiKey(env.config, { tenant: 'busy-co' });
    const second = await createApiKey(env.config, { tenant: 'busy-co' });
    const elsewhere = await createApiKey(env.config, { tenant: 'calm-co' });
    await sql(env, `UPDATE tenants SET rate_limit = 3 WHERE name = 'busy-co'`, []);
    // The keys are re-read with their tenant's limit within the reload period.
    await waitFor(
      async () => {
        const response = await fetch(`${gateway.baseUrl}/health`, { headers: bearer(first) });
        await response.arrayBuffer();
        const store = gateway.app.get(ApiKeyStore);
        return store.find(first)?.tenantRateLimit === 3 ? true : undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'the tenant limit to be loaded' },
    );
    for (const token of [first, second, first]) {
      const response = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) });
      assert.equal(response.status, 200);
      await response.arrayBuffer();
    }
    const limited = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(second) });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('ratelimit-limit'), '3');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.match(((await limited.json()) as { message: string }).message, /tenant rate limit of 3/);
    assert.equal((await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(elsewhere) })).status, 200);
  });

  it('records when a key was last used', async () => {
    const name = 'used-key';
    const token = await createApiKey(env.config, { name });
    const lastUsed = async () => {
      const client = new pg.Client({ connectionString: env.config.DATABASE_URL });
      await client.connect();
      try {
        const { rows } = await client.query<{ last_used_at: Date | null }>(
          'SELECT last_used_at FROM api_keys WHERE name = $1',
          [name],
        );
        return rows[0]?.last_used_at ?? null;
      } finally {
        await client.end();
      }
    };
    const before = Date.now();
    for (let i = 0; i < 3; i++) {
      assert.equal((await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) })).status, 200);
    }
    await gateway.app.get(ApiKeyStore).flushLastUsed();
    const used = await lastUsed();
    assert.ok(used !== null && used.getTime() >= before - 1_000, String(used));
  });

  it('documents bearer auth in the OpenAPI document', async () => {
    const response = await fetch(`${gateway.baseUrl}/docs-json`);
    assert.equal(response.status, 200);
    const document = (await response.json()) as {
      components: { securitySchemes: Record<string, { scheme?: string }> };
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    assert.equal(document.components.securitySchemes.bearer?.scheme, 'bearer');
    const list = document.paths['/documents']?.get;
    assert.deepEqual(list?.security, [{ bearer: [] }]);
    assert.ok(list?.responses['401'] && list.responses['429']);
  });
});

describe('rate limit for unauthenticated traffic', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  before(async () => {
    env = await createTestEnvironment({ ANONYMOUS_RATE_LIMIT_PER_MINUTE: '3' });
    gateway = await startTestGateway(env.config);
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  it('answers 429 to a client address after too many failed authentications', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(`guess-${attempt}`) });
      assert.equal(response.status, 401);
      await response.arrayBuffer();
    }
    const limited = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer('guess-4') });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(limited.headers.get('ratelimit-limit'), '3');
    // A valid key is limited on its own budget, not the address's.
    const token = await createApiKey(env.config);
    assert.equal((await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) })).status, 200);
  });
});
