import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { runMigrations } from '#libs/database';

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('migrations', () => {
  const name = `rag_test_migrate_${randomBytes(4).toString('hex')}`;
  const databaseUrl = new URL(ADMIN_URL);
  databaseUrl.pathname = `/${name}`;

  after(async () => {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('create the database and apply each migration once when several processes start at the same time', async () => {
    const applied = await Promise.all([1, 2, 3].map(() => runMigrations(databaseUrl.toString())));
    // Exactly one caller applied the migrations; the others waited on the lock and found nothing to do.
    assert.deepEqual(applied.flat(), ['InitialSchema1764201600000', 'CorpusStats1764288000000']);

    const client = new pg.Client({ connectionString: databaseUrl.toString() });
    await client.connect();
    const { rows } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    await client.end();
    assert.deepEqual(
      rows.map((row) => row.table_name),
      [
        'api_keys',
        'chunk_terms',
        'chunks',
        'corpus_stats',
        'document_contents',
        'documents',
        'schema_migrations',
      ],
    );
  });
});
