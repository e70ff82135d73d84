import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { AppConfig } from '#libs/config';
import { ALL_SCOPES, DEFAULT_TENANT, type Scope } from '#libs/contracts';
import { hashApiKey } from '#libs/database';

export interface TestKeyOptions {
  name?: string;
  rateLimit?: number | null;
  tenant?: string;
  scopes?: readonly Scope[];
}

/** Stores a fresh key (and its tenant, if new) straight in the run's database and returns its token. */
export async function createApiKey(
  config: AppConfig,
  {
    name = `key-${randomBytes(3).toString('hex')}`,
    rateLimit = null,
    tenant = DEFAULT_TENANT,
    scopes = ALL_SCOPES,
  }: TestKeyOptions = {},
): Promise<string> {
  const token = `test-${randomBytes(16).toString('hex')}`;
  const client = new pg.Client({ connectionString: config.DATABASE_URL });
  await client.connect();
  try {
    await client.query('INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING', [tenant]);
    await client.query(
      'INSERT INTO api_keys (name, key_hash, rate_limit, tenant, scopes) VALUES ($1, $2, $3, $4, $5)',
      [name, hashApiKey(token), rateLimit, tenant, scopes],
    );
  } finally {
    await client.end();
  }
  return token;
}
