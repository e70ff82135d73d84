import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runMigrations } from '#libs/database';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

describe('migrations', () => {
  let env: TestEnvironment;
  before(async () => {
    env = await createTestEnvironment();
  });
  after(async () => env.cleanup());

  it('apply once when several processes migrate at the same time', async () => {
    // The environment already migrated; a second wave of concurrent runs must find nothing to do.
    const applied = await Promise.all([1, 2, 3].map(() => runMigrations(env.config.DATABASE_URL)));
    assert.deepEqual(applied, [[], [], []]);
    const client = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    await client.end();
    assert.deepEqual(
      rows.map((row) => row.table_name),
      ['api_keys', 'chunk_terms', 'chunks', 'document_contents', 'documents', 'schema_migrations'],
    );
  });
});
