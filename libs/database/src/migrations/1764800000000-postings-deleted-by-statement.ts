import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Postings go with their chunks by a statement trigger instead of a foreign key (ADR 0030).
 * The foreign key from `chunk_terms` to `chunks` checked every inserted posting on its own, a
 * row-by-row lookup that was about 40% of the cost of writing postings (docs/benchmarks.md).
 * Postings are only ever inserted in the statement that inserts their chunks (ChunkIndexRepository),
 * so the check had nothing to catch; its other job, deleting a chunk's postings with it (a
 * document delete cascades to its chunks), is done here once per statement, from the deleted
 * rows (cascaded deletes included, as for the corpus_stats triggers).
 */
export class PostingsDeletedByStatement1764800000000 implements MigrationInterface {
  name = 'PostingsDeletedByStatement1764800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION chunk_terms_remove() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM chunk_terms t USING removed r WHERE t.chunk_id = r.id;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER chunks_postings_delete AFTER DELETE ON chunks
      REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION chunk_terms_remove()`);
    await db.query(`ALTER TABLE chunk_terms DROP CONSTRAINT chunk_terms_chunk_id_fkey`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER chunks_postings_delete ON chunks`);
    await db.query(`DROP FUNCTION chunk_terms_remove()`);
    await db.query(
      `DELETE FROM chunk_terms t WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = t.chunk_id)`,
    );
    await db.query(`
      ALTER TABLE chunk_terms ADD CONSTRAINT chunk_terms_chunk_id_fkey
        FOREIGN KEY (chunk_id) REFERENCES chunks (id) ON DELETE CASCADE`);
  }
}
