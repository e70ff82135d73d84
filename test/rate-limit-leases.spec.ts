import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { RedisKey } from '#libs/contracts';
import { redisOptionsFromUrl } from '#libs/redis';
import { MAX_LEASE } from '../apps/gateway/src/rate-limit/window-leases.js';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * Two gateway apps with their own in-memory leases over one Redis and one database: what two
 * gateway processes share.
 */
describe('rate limits spent from leases held in memory', () => {
  let env: TestEnvironment;
  let gateways: RunningGateway[];
  let redis: Redis;
  before(async () => {
    env = await createTestEnvironment();
    gateways = [await startTestGateway(env.config), await startTestGateway(env.config)];
    redis = new Redis(redisOptionsFromUrl(env.config.REDIS_URL));
  });
  after(async () => {
    redis?.disconnect();
    for (const gateway of gateways ?? []) await gateway.close();
    await env?.cleanup();
  });

  async function keyCounter(name: string): Promise<number> {
    const client = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string }>('SELECT id FROM api_keys WHERE name = $1', [name]);
      const counted = await redis.get(
        `${env.config.REDIS_KEY_PREFIX}:${RedisKey.RateLimit}:key:${rows[0]?.id}`,
      );
      return Number(counted);
    } finally {
      await client.end();
    }
  }

  it('reserves a lease of the budget in Redis and spends it without a round trip per request', async () => {
    const name = 'leasing-key';
    const token = await createApiKey(env.config, { name, rateLimit: 100 * MAX_LEASE });
    const [gateway] = gateways;
    assert.ok(gateway);
    const first = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('ratelimit-remaining'), String(100 * MAX_LEASE - 1));
    assert.equal(await keyCounter(name), MAX_LEASE);
    for (let i = 2; i <= MAX_LEASE; i++) {
      const response = await fetch(`${gateway.baseUrl}/documents`, { headers: bearer(token) });
      assert.equal(response.headers.get('ratelimit-remaining'), String(100 * MAX_LEASE - i));
      await response.arrayBuffer();
    }
    // The whole lease was spent from memory: Redis still counts the one reservation.
    assert.equal(await keyCounter(name), MAX_LEASE);
  });

  it('admits a key exactly its limit across two gateways, then both refuse it', async () => {
    const limit = 200;
    const name = 'shared-key';
    const token = await createApiKey(env.config, { name, rateLimit: limit });
    let admitted = 0;
    const refusedBy = new Set<number>();
    // Concurrent requests to both gateways, until each has refused the key: by then neither holds
    // an unspent lease and the counter in Redis is full, so exactly the limit got through.
    while (refusedBy.size < gateways.length) {
      const statuses = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const gateway = i % gateways.length;
          const response = await fetch(`${gateways[gateway]?.baseUrl}/documents`, { headers: bearer(token) });
          await response.arrayBuffer();
          return { gateway, status: response.status };
        }),
      );
      for (const { gateway, status } of statuses) {
        if (status === 200) admitted++;
        else if (status === 429) refusedBy.add(gateway);
        else assert.fail(`unexpected status ${status}`);
      }
    }
    assert.equal(admitted, limit);
    assert.equal(await keyCounter(name), limit);
  });
});
