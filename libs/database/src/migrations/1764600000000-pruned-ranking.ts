import type { MigrationInterface, QueryRunner } from 'typeorm';
import { IMPACT_KEY_REFERENCE } from '../ranking/impact-bound.js';

/**
 * Per-term figures that pruned BM25 (ADR 0029) needs before it reads any posting: each term's
 * document frequency per tenant, and the smallest impact key of its postings, from which the
 * most one posting of the term can add to a score is bounded (impactBoundSlope).
 *
 * Kept by statement triggers on `chunk_terms` in the writing transaction (cascaded deletes
 * included), so idf and the bounds are point reads rather than counts over the postings. A
 * removal lowers df but leaves best_key: a stale key only loosens the bound, it never breaks it.
 */
export class PrunedRanking1764600000000 implements MigrationInterface {
  name = 'PrunedRanking1764600000000';

  async up(db: QueryRunner): Promise<void> {
    const { b, averageLength } = IMPACT_KEY_REFERENCE;
    const impactKey = `(${1 - b} + ${b} * chunk_length::float8 / ${averageLength}) / tf`;
    await db.query(`
      CREATE TABLE term_df (
        tenant    text NOT NULL,
        lexeme    text NOT NULL,
        df        integer NOT NULL,
        best_key  float8 NOT NULL,
        PRIMARY KEY (tenant, lexeme)
      )`);
    // ORDER BY the key: concurrent writers lock the rows in the same order, so they cannot deadlock.
    await db.query(`
      CREATE FUNCTION term_df_add() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO term_df (tenant, lexeme, df, best_key)
        SELECT tenant, lexeme, count(*), min(${impactKey})
        FROM changed GROUP BY tenant, lexeme ORDER BY tenant, lexeme
        ON CONFLICT (tenant, lexeme) DO UPDATE
          SET df = term_df.df + excluded.df, best_key = least(term_df.best_key, excluded.best_key);
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE FUNCTION term_df_remove() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE term_df s SET df = s.df - d.df
        FROM (SELECT tenant, lexeme, count(*) AS df
              FROM changed GROUP BY tenant, lexeme ORDER BY tenant, lexeme) d
        WHERE s.tenant = d.tenant AND s.lexeme = d.lexeme;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER chunk_terms_df_insert AFTER INSERT ON chunk_terms
      REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION term_df_add()`);
    await db.query(`
      CREATE TRIGGER chunk_terms_df_delete AFTER DELETE ON chunk_terms
      REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION term_df_remove()`);
    await db.query(`
      INSERT INTO term_df (tenant, lexeme, df, best_key)
      SELECT tenant, lexeme, count(*), min(${impactKey}) FROM chunk_terms GROUP BY tenant, lexeme`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER chunk_terms_df_delete ON chunk_terms`);
    await db.query(`DROP TRIGGER chunk_terms_df_insert ON chunk_terms`);
    await db.query(`DROP FUNCTION term_df_remove(), term_df_add()`);
    await db.query(`DROP TABLE term_df`);
  }
}
