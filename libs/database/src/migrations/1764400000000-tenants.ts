import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenants and scoped keys (ADR 0008). Every key, document, chunk, posting and corpus total gets a
 * `tenant`; what existed before belongs to `default`. The column is added with a default (no table
 * rewrite on Postgres 11+), then the default is dropped, so a writer that forgets the tenant fails
 * instead of filing rows under `default`.
 *
 * Postings lead with the tenant: a search reads only its own tenant's entries, so the tenant
 * filter is applied inside ranking (document frequencies and all), never to a ranked list afterwards.
 */
export class Tenants1764400000000 implements MigrationInterface {
  name = 'Tenants1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE tenants (
        name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
        -- Requests per minute for all the tenant's keys together; null: no tenant-wide limit.
        rate_limit  integer CHECK (rate_limit > 0),
        created_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`INSERT INTO tenants (name) VALUES ('default')`);

    await db.query(`
      ALTER TABLE api_keys
        ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (name),
        ADD COLUMN scopes text[] NOT NULL DEFAULT '{documents:read,documents:write,query}'
          CHECK (scopes <@ '{documents:read,documents:write,query}'::text[]),
        ADD COLUMN last_used_at timestamptz,
        -- Rotation: the replaced token keeps working until previous_key_expires_at.
        ADD COLUMN previous_key_hash text UNIQUE,
        ADD COLUMN previous_key_expires_at timestamptz`);
    await db.query(`ALTER TABLE api_keys ALTER COLUMN tenant DROP DEFAULT`);

    await db.query(
      `ALTER TABLE documents ADD COLUMN tenant text NOT NULL DEFAULT 'default' REFERENCES tenants (name)`,
    );
    await db.query(`ALTER TABLE documents ALTER COLUMN tenant DROP DEFAULT`);
    await db.query(
      `DROP INDEX documents_created_idx, documents_collection_created_idx, documents_idempotency_idx`,
    );
    await db.query(`CREATE INDEX documents_created_idx ON documents (tenant, created_at DESC, id DESC)`);
    await db.query(
      `CREATE INDEX documents_collection_created_idx ON documents (tenant, collection, created_at DESC, id DESC)`,
    );
    // Idempotency keys live inside the tenant, per API key (API.md).
    await db.query(
      `CREATE UNIQUE INDEX documents_idempotency_idx ON documents (tenant, api_key_id, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
    );

    await db.query(`ALTER TABLE chunks ADD COLUMN tenant text NOT NULL DEFAULT 'default'`);
    await db.query(`ALTER TABLE chunks ALTER COLUMN tenant DROP DEFAULT`);

    await db.query(`ALTER TABLE chunk_terms ADD COLUMN tenant text NOT NULL DEFAULT 'default'`);
    await db.query(`ALTER TABLE chunk_terms ALTER COLUMN tenant DROP DEFAULT`);
    await db.query(`ALTER TABLE chunk_terms DROP CONSTRAINT chunk_terms_pkey`);
    await db.query(
      `ALTER TABLE chunk_terms ADD CONSTRAINT chunk_terms_pkey PRIMARY KEY (tenant, lexeme, chunk_id) INCLUDE (tf, chunk_length)`,
    );

    await db.query(`ALTER TABLE corpus_stats ADD COLUMN tenant text NOT NULL DEFAULT 'default'`);
    await db.query(`ALTER TABLE corpus_stats ALTER COLUMN tenant DROP DEFAULT`);
    await db.query(`ALTER TABLE corpus_stats DROP CONSTRAINT corpus_stats_pkey`);
    await db.query(`ALTER TABLE corpus_stats ADD PRIMARY KEY (tenant, language)`);
    await replaceStatsFunctions(db, 'tenant, language');
  }

  async down(db: QueryRunner): Promise<void> {
    await replaceStatsFunctions(db, 'language');
    await db.query(`
      CREATE TABLE corpus_stats_merged AS
      SELECT language, sum(chunk_count)::bigint AS chunk_count, sum(term_total)::bigint AS term_total
      FROM corpus_stats GROUP BY language`);
    await db.query(`DELETE FROM corpus_stats`);
    await db.query(`ALTER TABLE corpus_stats DROP CONSTRAINT corpus_stats_pkey`);
    await db.query(`ALTER TABLE corpus_stats DROP COLUMN tenant`);
    await db.query(`ALTER TABLE corpus_stats ADD PRIMARY KEY (language)`);
    await db.query(
      `INSERT INTO corpus_stats SELECT language, chunk_count, term_total FROM corpus_stats_merged`,
    );
    await db.query(`DROP TABLE corpus_stats_merged`);

    await db.query(`ALTER TABLE chunk_terms DROP CONSTRAINT chunk_terms_pkey`);
    await db.query(`ALTER TABLE chunk_terms DROP COLUMN tenant`);
    await db.query(
      `ALTER TABLE chunk_terms ADD CONSTRAINT chunk_terms_pkey PRIMARY KEY (lexeme, chunk_id) INCLUDE (tf, chunk_length)`,
    );
    await db.query(`ALTER TABLE chunks DROP COLUMN tenant`);

    await db.query(
      `DROP INDEX documents_created_idx, documents_collection_created_idx, documents_idempotency_idx`,
    );
    await db.query(`ALTER TABLE documents DROP COLUMN tenant`);
    await db.query(`CREATE INDEX documents_created_idx ON documents (created_at DESC, id DESC)`);
    await db.query(
      `CREATE INDEX documents_collection_created_idx ON documents (collection, created_at DESC, id DESC)`,
    );
    await db.query(
      `CREATE UNIQUE INDEX documents_idempotency_idx ON documents (api_key_id, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
    );

    await db.query(`
      ALTER TABLE api_keys
        DROP COLUMN tenant, DROP COLUMN scopes, DROP COLUMN last_used_at,
        DROP COLUMN previous_key_hash, DROP COLUMN previous_key_expires_at`);
    await db.query(`DROP TABLE tenants`);
  }
}

/** The statement triggers of CorpusStats1764288000000, grouped by `key` (the table's primary key). */
async function replaceStatsFunctions(db: QueryRunner, key: string): Promise<void> {
  // ORDER BY the key: concurrent writers lock the rows in the same order, so they cannot deadlock.
  await db.query(`
    CREATE OR REPLACE FUNCTION corpus_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO corpus_stats (${key}, chunk_count, term_total)
      SELECT ${key}, count(*), sum(term_count) FROM changed GROUP BY ${key} ORDER BY ${key}
      ON CONFLICT (${key}) DO UPDATE
        SET chunk_count = corpus_stats.chunk_count + excluded.chunk_count,
            term_total = corpus_stats.term_total + excluded.term_total;
      RETURN NULL;
    END $$`);
  const join = key
    .split(', ')
    .map((column) => `s.${column} = d.${column}`)
    .join(' AND ');
  await db.query(`
    CREATE OR REPLACE FUNCTION corpus_stats_remove() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE corpus_stats s
      SET chunk_count = s.chunk_count - d.chunks, term_total = s.term_total - d.terms
      FROM (SELECT ${key}, count(*) AS chunks, sum(term_count) AS terms
            FROM changed GROUP BY ${key} ORDER BY ${key}) d
      WHERE ${join};
      RETURN NULL;
    END $$`);
}
