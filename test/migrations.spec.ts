import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { DEFAULT_TENANT, parseTenantId } from '#libs/contracts';
import { dataSourceOptions, ensureDatabase, runMigrations, SearchRepository } from '#libs/database';
import { MIGRATIONS } from '../libs/database/src/migrations/index.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function scratchDatabase(label: string): { name: string; url: string } {
  const name = `rag_test_${label}_${randomBytes(4).toString('hex')}`;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

async function dropDatabases(names: string[]): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  for (const name of names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}

describe('migrations', () => {
  const fresh = scratchDatabase('migrate');
  const existing = scratchDatabase('migrate_data');

  after(() => dropDatabases([fresh.name, existing.name]));

  it('create the database and apply each migration once when several processes start at the same time', async () => {
    const applied = await Promise.all([1, 2, 3].map(() => runMigrations(fresh.url)));
    // Exactly one caller applied the migrations; the others waited on the lock and found nothing to do.
    assert.deepEqual(
      applied.flat(),
      MIGRATIONS.map((migration) => migration.name),
    );

    const client = new pg.Client({ connectionString: fresh.url });
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
        'tenants',
        'term_df',
      ],
    );
  });

  it('moves the keys, documents, chunks, postings and corpus totals of an existing database to the tenant "default"', async () => {
    // The database as it was before tenants: migrated up to the migration before them, with data in it.
    const tenantsIndex = MIGRATIONS.findIndex((migration) => migration.name === 'Tenants1764400000000');
    await ensureDatabase(existing.url);
    const before = new DataSource({
      ...dataSourceOptions({ url: existing.url, poolSize: 1, applicationName: 'test' }),
      migrations: MIGRATIONS.slice(0, tenantsIndex),
    });
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    const keyId = randomUUID();
    const documentId = randomUUID();
    await before.query(
      `INSERT INTO api_keys (id, name, key_hash, rate_limit) VALUES ($1, 'old-key', 'hash', 60)`,
      [keyId],
    );
    await before.query(
      `INSERT INTO documents (id, collection, title, status, size_bytes, mime_type, content_sha256, idempotency_key, api_key_id)
       VALUES ($1, 'handbook', 'Old handbook', 'indexed', 10, 'text/plain', 'x', 'upload-1', $2)`,
      [documentId, keyId],
    );
    await before.query(
      `WITH inserted AS (
         INSERT INTO chunks (document_id, ordinal, content, language, tsv, start_offset, end_offset, term_count)
         SELECT $1, 0, t, 'english', to_tsvector('english', t), 0, length(t), length(to_tsvector('english', t))
         FROM (VALUES ('Reset the password from the settings page.')) AS v(t)
         RETURNING id, tsv, term_count)
       INSERT INTO chunk_terms (lexeme, chunk_id, tf, chunk_length)
       SELECT l.lexeme, i.id, coalesce(array_length(l.positions, 1), 1), i.term_count FROM inserted i, unnest(i.tsv) AS l`,
      [documentId],
    );
    await before.destroy();

    assert.deepEqual(
      await runMigrations(existing.url),
      MIGRATIONS.slice(tenantsIndex).map((migration) => migration.name),
    );

    const after = new DataSource(
      dataSourceOptions({ url: existing.url, poolSize: 1, applicationName: 'test' }),
    );
    await after.initialize();
    try {
      const tenantsOf = async (table: string) =>
        (await after.query<{ tenant: string }[]>(`SELECT DISTINCT tenant FROM ${table}`)).map(
          (row) => row.tenant,
        );
      for (const table of ['api_keys', 'documents', 'chunks', 'chunk_terms', 'corpus_stats']) {
        assert.deepEqual(await tenantsOf(table), ['default'], table);
      }
      const [key] = await after.query<{ scopes: string[]; rate_limit: number; last_used_at: Date | null }[]>(
        `SELECT scopes, rate_limit, last_used_at FROM api_keys`,
      );
      assert.deepEqual(key, {
        scopes: ['documents:read', 'documents:write', 'query'],
        rate_limit: 60,
        last_used_at: null,
      });
      const [stats] = await after.query<{ chunks: number }[]>(
        `SELECT chunk_count::int AS chunks FROM corpus_stats`,
      );
      assert.equal(stats?.chunks, 1);
      // The migrated postings are found by a search in the default tenant, and only there.
      const search = new SearchRepository(after);
      const corpus = await search.readCorpusStats(DEFAULT_TENANT);
      assert.equal(corpus.chunkCount, 1);
      const analysed = await search.analyse({
        text: 'password',
        phrases: [],
        excludes: [],
        configs: corpus.configs,
      });
      const request = { lexemes: analysed.lexemes, limit: 5, stats: corpus, bm25: { k1: 1.2, b: 0.4 } };
      const { hits } = await search.search({ ...request, tenant: DEFAULT_TENANT });
      assert.deepEqual(
        hits.map((hit) => hit.documentId),
        [documentId],
      );
      const other = await search.search({ ...request, tenant: parseTenantId('someone-else') });
      assert.deepEqual(other.hits, []);
      // New rows must name their tenant: the column keeps no default to fall back on.
      await assert.rejects(
        after.query(
          `INSERT INTO documents (id, collection, title, status, size_bytes, mime_type, content_sha256)
           VALUES (gen_random_uuid(), 'x', 'x', 'queued', 1, 'text/plain', 'x')`,
        ),
        /null value in column "tenant"/,
      );
    } finally {
      await after.destroy();
    }
  });
});
