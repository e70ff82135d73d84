import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764201600000 implements MigrationInterface {
  name = 'InitialSchema1764201600000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE api_keys (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name        text NOT NULL UNIQUE,
        key_hash    text NOT NULL UNIQUE,
        rate_limit  integer CHECK (rate_limit > 0),
        created_at  timestamptz NOT NULL DEFAULT now(),
        revoked_at  timestamptz
      )`);

    await db.query(`
      CREATE TABLE documents (
        id              uuid PRIMARY KEY,
        collection      text NOT NULL,
        title           text NOT NULL,
        status          text NOT NULL CHECK (status IN ('queued', 'processing', 'indexed', 'failed')),
        progress        smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
        error           text,
        attempts        integer NOT NULL DEFAULT 0,
        chunk_count     integer NOT NULL DEFAULT 0,
        size_bytes      integer NOT NULL,
        mime_type       text NOT NULL,
        content_sha256  text NOT NULL,
        metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
        idempotency_key text,
        api_key_id      uuid REFERENCES api_keys (id) ON DELETE SET NULL,
        -- Millisecond precision, as a JS Date holds it, so the list cursor (created_at, id) is exact.
        created_at      timestamptz(3) NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        indexed_at      timestamptz
      )`);
    // Keyset pagination, newest first, optionally within a collection or status.
    await db.query(`CREATE INDEX documents_created_idx ON documents (created_at DESC, id DESC)`);
    await db.query(
      `CREATE INDEX documents_collection_created_idx ON documents (collection, created_at DESC, id DESC)`,
    );
    // The reconciler looks for documents that should have a live job.
    await db.query(
      `CREATE INDEX documents_pending_idx ON documents (updated_at) WHERE status IN ('queued', 'processing')`,
    );
    await db.query(
      `CREATE UNIQUE INDEX documents_idempotency_idx ON documents (api_key_id, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
    );

    await db.query(`
      CREATE TABLE document_contents (
        document_id uuid PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
        body        bytea NOT NULL
      )`);

    await db.query(`
      CREATE TABLE chunks (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        document_id   uuid NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
        ordinal       integer NOT NULL,
        content       text NOT NULL,
        language      text NOT NULL,
        tsv           tsvector NOT NULL,
        start_offset  integer NOT NULL,
        end_offset    integer NOT NULL,
        term_count    integer NOT NULL,
        UNIQUE (document_id, ordinal)
      )`);
    await db.query(`CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv)`);

    // BM25 postings: ranking reads only the query terms' entries (index-only scan), not every matching tsvector.
    await db.query(`
      CREATE TABLE chunk_terms (
        lexeme        text NOT NULL,
        chunk_id      bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
        tf            integer NOT NULL,
        chunk_length  integer NOT NULL,
        PRIMARY KEY (lexeme, chunk_id) INCLUDE (tf, chunk_length)
      )`);
    await db.query(`CREATE INDEX chunk_terms_chunk_idx ON chunk_terms (chunk_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE chunk_terms, chunks, document_contents, documents, api_keys`);
  }
}
