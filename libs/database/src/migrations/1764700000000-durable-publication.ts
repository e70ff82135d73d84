import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Publication as a durable step (ADR 0030): an ingest job completes once its chunks are
 * committed, and the document waits for its corpus version bump with `written_at` set (still
 * `processing`). Whoever publishes (the worker that wrote it, or any worker's reconciler after a
 * crash) bumps the version, then marks it `indexed` and clears `written_at`. The partial index
 * holds only the documents waiting for publication, so finding them stays a small read.
 */
export class DurablePublication1764700000000 implements MigrationInterface {
  name = 'DurablePublication1764700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE documents ADD COLUMN written_at timestamptz`);
    await db.query(
      `CREATE INDEX documents_unpublished_idx ON documents (written_at) WHERE written_at IS NOT NULL`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX documents_unpublished_idx`);
    await db.query(`ALTER TABLE documents DROP COLUMN written_at`);
  }
}
