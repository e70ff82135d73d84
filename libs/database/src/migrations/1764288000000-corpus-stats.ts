import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * BM25 needs the number of chunks and their average length, and query analysis needs the
 * text-search configurations in use. Counting them from `chunks` is a scan that grows with the
 * corpus; these per-language totals, kept by statement triggers in the writing transaction
 * (cascaded deletes included), are a three-row read, cheap enough to re-read on every corpus version.
 */
export class CorpusStats1764288000000 implements MigrationInterface {
  name = 'CorpusStats1764288000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE corpus_stats (
        language     text PRIMARY KEY,
        chunk_count  bigint NOT NULL,
        term_total   bigint NOT NULL
      )`);
    // ORDER BY language: concurrent writers lock the rows in the same order, so they cannot deadlock.
    await db.query(`
      CREATE FUNCTION corpus_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO corpus_stats (language, chunk_count, term_total)
        SELECT language, count(*), sum(term_count) FROM changed GROUP BY language ORDER BY language
        ON CONFLICT (language) DO UPDATE
          SET chunk_count = corpus_stats.chunk_count + excluded.chunk_count,
              term_total = corpus_stats.term_total + excluded.term_total;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION corpus_stats_remove() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE corpus_stats s
        SET chunk_count = s.chunk_count - d.chunks, term_total = s.term_total - d.terms
        FROM (SELECT language, count(*) AS chunks, sum(term_count) AS terms
              FROM changed GROUP BY language ORDER BY language) d
        WHERE s.language = d.language;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER chunks_stats_insert AFTER INSERT ON chunks
      REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION corpus_stats_add()`);
    await db.query(`
      CREATE TRIGGER chunks_stats_delete AFTER DELETE ON chunks
      REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION corpus_stats_remove()`);
    await db.query(`
      INSERT INTO corpus_stats (language, chunk_count, term_total)
      SELECT language, count(*), coalesce(sum(term_count), 0) FROM chunks GROUP BY language`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER chunks_stats_delete ON chunks`);
    await db.query(`DROP TRIGGER chunks_stats_insert ON chunks`);
    await db.query(`DROP FUNCTION corpus_stats_remove(), corpus_stats_add()`);
    await db.query(`DROP TABLE corpus_stats`);
  }
}
