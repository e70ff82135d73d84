import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DocumentStatus, type TenantId } from '#libs/contracts';

/** Text-search configurations the index knows; each chunk is indexed with the one of its language. */
export type TextSearchConfig = 'english' | 'russian' | 'simple';

export interface ChunkInput {
  content: string;
  language: TextSearchConfig;
  startOffset: number;
  endOffset: number;
}

/** One document's new passages, for `replaceChunksOfMany`. */
export interface DocumentChunks {
  tenant: TenantId;
  documentId: string;
  chunks: ChunkInput[];
}

/** Writes a document's passages: chunks, their tsvectors and their BM25 postings, always together. */
@Injectable()
export class ChunkIndexRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Replaces every chunk of the document, in one transaction, so readers see the old passages
   * or the new ones, never a mix, and re-running a job is harmless. The document stays
   * `processing`, with `written_at` set, until `markIndexed`, once a corpus version covering it
   * is published.
   * Returns false (and writes nothing) when the document was deleted meanwhile.
   */
  async replaceChunks(tenant: TenantId, documentId: string, chunks: ChunkInput[]): Promise<boolean> {
    const written = await this.replaceChunksOfMany([{ tenant, documentId, chunks }]);
    return written.has(documentId);
  }

  /**
   * `replaceChunks` for many documents in one transaction and a handful of statements, whatever
   * their number (the ingest worker's group commit, ADR 0027): one commit, and one run of the
   * statement-level `corpus_stats` triggers, for the whole group. All or nothing: if it throws,
   * nothing was written, and the caller may write the documents one by one to find the culprit.
   * Returns the ids written; a document deleted meanwhile is left out (and nothing is written for it).
   *
   * The title is indexed with the first chunk (not stored in its content): on SciFact that
   * raised nDCG@10 by 0.016 (docs/retrieval.md).
   */
  async replaceChunksOfMany(documents: readonly DocumentChunks[]): Promise<Set<string>> {
    if (documents.length === 0) return new Set();
    return this.dataSource.transaction(async (manager) => {
      // Locks the rows so a concurrent delete waits for us (or we see it gone); in id order, so
      // two groups sharing a document cannot deadlock.
      const locked: { id: string; title: string }[] = await manager.query(
        `SELECT d.id, d.title
         FROM documents d
         JOIN unnest($1::uuid[], $2::text[]) AS w(id, tenant) ON d.id = w.id AND d.tenant = w.tenant
         ORDER BY d.id
         FOR UPDATE OF d`,
        [documents.map((document) => document.documentId), documents.map((document) => document.tenant)],
      );
      const titles = new Map(locked.map((row) => [row.id, row.title]));
      const present = documents.filter((document) => titles.has(document.documentId));
      if (present.length === 0) return new Set();
      const ids = present.map((document) => document.documentId);
      await manager.query(`DELETE FROM chunks WHERE document_id = ANY($1::uuid[])`, [ids]);
      const rows = present.flatMap((document) =>
        document.chunks.map((chunk, ordinal) => ({
          tenant: document.tenant,
          document_id: document.documentId,
          ordinal,
          title: ordinal === 0 ? (titles.get(document.documentId) ?? '') : null,
          content: chunk.content,
          language: chunk.language,
          start_offset: chunk.startOffset,
          end_offset: chunk.endOffset,
        })),
      );
      if (rows.length > 0) {
        // chunk_terms' column list stays explicit: columns the table gains (generated ones
        // included) must not need a change here.
        await manager.query(
          `WITH input AS (
             SELECT c.tenant, c.document_id, c.ordinal, c.content, c.language, c.start_offset, c.end_offset,
                    to_tsvector(
                      c.language::regconfig,
                      CASE WHEN c.title IS NULL THEN c.content ELSE c.title || E'\n\n' || c.content END
                    ) AS tsv
             FROM jsonb_to_recordset($1::jsonb) AS c(
                    tenant text, document_id uuid, ordinal int, title text, content text, language text,
                    start_offset int, end_offset int)
           ),
           inserted AS (
             INSERT INTO chunks (tenant, document_id, ordinal, content, language, tsv, start_offset, end_offset, term_count)
             SELECT tenant, document_id, ordinal, content, language, tsv, start_offset, end_offset,
                    coalesce((SELECT sum(coalesce(array_length(positions, 1), 1)) FROM unnest(tsv)), 0)
             FROM input
             RETURNING id, tenant, tsv, term_count
           )
           INSERT INTO chunk_terms (tenant, lexeme, chunk_id, tf, chunk_length)
           SELECT i.tenant, t.lexeme, i.id, coalesce(array_length(t.positions, 1), 1), i.term_count
           FROM inserted i, unnest(i.tsv) AS t`,
          [JSON.stringify(rows)],
        );
      }
      // written_at: a document being processed now waits for publication, durably (ADR 0030).
      // One in another state (a failed attempt put it back to `queued` meanwhile) is not marked:
      // the reconciler's re-queue, which skips written documents, must still see it.
      await manager.query(
        `UPDATE documents d
         SET chunk_count = w.chunk_count, updated_at = now(),
             written_at = CASE WHEN d.status = $3 THEN now() ELSE d.written_at END
         FROM unnest($1::uuid[], $2::int[]) AS w(id, chunk_count)
         WHERE d.id = w.id`,
        [ids, present.map((document) => document.chunks.length), DocumentStatus.Processing],
      );
      return new Set(ids);
    });
  }

  /**
   * Marks documents whose chunks are written (and whose corpus version is bumped) as indexed;
   * returns the ids it marked, not those deleted or claimed by a new attempt meanwhile.
   */
  async markIndexed(tenant: TenantId, documentIds: readonly string[]): Promise<string[]> {
    // TypeORM answers an UPDATE on Postgres with [returned rows, affected count].
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `UPDATE documents
       SET status = $3, progress = 100, error = NULL, indexed_at = now(), written_at = NULL, updated_at = now()
       WHERE tenant = $1 AND id = ANY($2::uuid[]) AND status = $4 AND written_at IS NOT NULL
       RETURNING id`,
      [tenant, documentIds, DocumentStatus.Indexed, DocumentStatus.Processing],
    );
    return rows.map((row) => row.id);
  }
}
