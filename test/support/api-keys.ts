import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { AppConfig } from '#libs/config';
import { hashApiKey } from '#libs/database';

/** Stores a fresh key straight in the run's database and returns its token. */
export async function createApiKey(
  config: AppConfig,
  { name = `key-${randomBytes(3).toString('hex')}`, rateLimit = null as number | null } = {},
): Promise<string> {
  const token = `test-${randomBytes(16).toString('hex')}`;
  const client = new pg.Client({ connectionString: config.DATABASE_URL });
  await client.connect();
  try {
    await client.query('INSERT INTO api_keys (name, key_hash, rate_limit) VALUES ($1, $2, $3)', [
      name,
      hashApiKey(token),
      rateLimit,
    ]);
  } finally {
    await client.end();
  }
  return token;
}
