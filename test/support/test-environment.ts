import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type AppConfig } from '#libs/config';
import { runMigrations } from '#libs/database';
import { redisOptionsFromUrl } from '#libs/redis';

const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestEnvironment {
  config: AppConfig;
  /** Drops the run's database and deletes every Redis key under its prefix. */
  cleanup(): Promise<void>;
}

/**
 * A private world for one test file: its own freshly migrated database and its own Redis key
 * prefix, so runs (and files within a run) never see each other's data.
 */
export async function createTestEnvironment(
  overrides: Partial<Record<string, string>> = {},
): Promise<TestEnvironment> {
  const runId = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = new URL(BASE_DATABASE_URL);
  databaseUrl.pathname = `/rag_test_${runId}`;
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl.toString(),
    DATABASE_POOL_SIZE: '4',
    REDIS_URL,
    REDIS_KEY_PREFIX: `test_${runId}`,
    GATEWAY_WORKERS: '1',
    // The suite runs on busy shared machines, where event-loop delay is the neighbours' load:
    // shedding is tested on its own (overload-shedding.spec.ts), not left to chance in every test.
    OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
    // Several worker apps run in one test process: each takes a free port for its HTTP endpoints.
    WORKER_HTTP_PORT: '0',
    // Publish each document as soon as it is written (same code path, no 500 ms wait per upload);
    // index-publication.spec.ts tests the batching with an interval of its own.
    INGEST_PUBLISH_INTERVAL_MS: '0',
    ...overrides,
  });
  await runMigrations(config.DATABASE_URL);
  return {
    config,
    cleanup: async () => {
      await dropDatabase(config.DATABASE_URL);
      await deleteKeys(config.REDIS_URL, config.REDIS_KEY_PREFIX);
    },
  };
}

async function dropDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisOptionsFromUrl(redisUrl));
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 }) as AsyncIterable<
      string[]
    >) {
      if (keys.length > 0) await redis.unlink(...keys);
    }
  } finally {
    await redis.quit();
  }
}

/** Polls until `check` returns a value other than undefined, or fails with the last seen state. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
