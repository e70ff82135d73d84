import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, IsNull, type EntityManager } from 'typeorm';
import { DocumentStatus, type TenantId } from '#libs/contracts';
import { DocumentContentEntity } from '../entities/document-content.entity.js';
import { DocumentEntity } from '../entities/document.entity.js';

export interface NewDocument {
  id: string;
  collection: string;
  title: string;
  sizeBytes: number;
  mimeType: string;
  contentSha256: string;
  metadata: Record<string, unknown>;
  idempotencyKey: string | null;
  apiKeyId: string | null;
}

export interface DocumentListFilter {
  collection?: string;
  status?: DocumentStatus;
  limit: number;
  /** Position after which to continue, from the previous page. */
  after?: { createdAt: Date; id: string };
}

/** One upload's fate in `createQueuedMany`. */
export type BatchOutcome =
  { kind: 'created'; id: string } | { kind: 'repeat'; document: DocumentEntity } | { kind: 'full' };

/** An idempotency key is scoped by the API key that used it (null: no API key). */
function keyOf(input: Pick<NewDocument, 'apiKeyId' | 'idempotencyKey'>): string {
  return input.idempotencyKey === null ? '' : JSON.stringify([input.apiKeyId, input.idempotencyKey]);
}

/** A document named with its tenant: every batch call matches on both. */
export interface DocumentRef {
  tenant: TenantId;
  id: string;
}

/** What an ingest attempt reads of a document, from `claimForIngest`. */
export interface ClaimedDocument {
  mimeType: string;
  metadata: Record<string, unknown>;
  /** The raw upload; null when it is missing. */
  body: Buffer | null;
}

/** Statuses of a document that is still waiting for its index and so must have an ingest job. */
const PENDING_STATUSES: DocumentStatus[] = [DocumentStatus.Queued, DocumentStatus.Processing];

/** A document whose chunks are written and that waits for publication, from `findUnpublished`. */
export interface UnpublishedDocument {
  tenant: TenantId;
  id: string;
  /** `written_at` at full precision: the page cursor. */
  writtenAt: string;
}

export interface StalePendingDocument {
  tenant: TenantId;
  id: string;
  /** `updated_at` as Postgres prints it (microseconds): the token `claimStale` compares. */
  version: string;
}

/**
 * The documents aggregate: the row and its raw upload. Every method that reads or changes a
 * document takes its tenant and matches on it, so another tenant's document is simply not found.
 */
@Injectable()
export class DocumentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores the row and the upload in one transaction. With an idempotency key already used by
   * the same API key in the same tenant, stores nothing and returns the earlier document with
   * `created: false`. When the tenant already has `maxQueued` documents waiting (0: no cap),
   * stores nothing and returns `null`; an idempotent repeat is still answered.
   */
  async createQueued(
    tenant: TenantId,
    input: NewDocument,
    body: Buffer,
    maxQueued: number,
  ): Promise<{ document: DocumentEntity; created: boolean } | null> {
    return this.dataSource.transaction(async (manager) => {
      // The cap is checked in the INSERT itself (counting at most `maxQueued` rows, on
      // documents_queued_tenant_idx): no extra round trip. Concurrent uploads may pass it together,
      // so it is a soft cap, exceeded by at most the number of uploads in flight.
      // DO NOTHING only on the (tenant, api_key_id, idempotency_key) unique index: ids are fresh UUIDs.
      const inserted: unknown[] = await manager.query(
        `INSERT INTO documents (id, collection, title, status, size_bytes, mime_type, content_sha256, metadata,
                                idempotency_key, api_key_id, tenant)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
         WHERE $12::int = 0
            OR (SELECT count(*) FROM (SELECT 1 FROM documents WHERE tenant = $11 AND status = $4 LIMIT $12) AS q) < $12
         ON CONFLICT DO NOTHING
         RETURNING id`,
        [
          input.id,
          input.collection,
          input.title,
          DocumentStatus.Queued,
          input.sizeBytes,
          input.mimeType,
          input.contentSha256,
          JSON.stringify(input.metadata),
          input.idempotencyKey,
          input.apiKeyId,
          tenant,
          maxQueued,
        ],
      );
      if (inserted.length === 0) {
        const existing =
          input.idempotencyKey === null
            ? null
            : await manager.findOneBy(DocumentEntity, {
                tenant,
                apiKeyId: input.apiKeyId === null ? IsNull() : input.apiKeyId,
                idempotencyKey: input.idempotencyKey,
              });
        return existing === null ? null : { document: existing, created: false };
      }
      await manager.insert(DocumentContentEntity, { documentId: input.id, body });
      return { document: await manager.findOneByOrFail(DocumentEntity, { id: input.id }), created: true };
    });
  }

  /**
   * `createQueued` for many uploads in one transaction (POST /documents/batch). Each upload gets
   * its own outcome, in order: `created` (stored), `repeat` (its idempotency key was already used
   * by this API key: the earlier document, nothing stored) or `full` (the tenant's queued cap was
   * reached: nothing stored). The cap leaves room for the first uploads of the batch and refuses
   * the rest; like `createQueued`'s it is soft, exceeded by at most the uploads in flight.
   */
  async createQueuedMany(
    tenant: TenantId,
    uploads: readonly { input: NewDocument; body: Buffer }[],
    maxQueued: number,
  ): Promise<BatchOutcome[]> {
    return this.dataSource.transaction(async (manager) => {
      const earlier = await this.findByIdempotencyKeys(manager, tenant, uploads);
      const fresh = uploads.filter(({ input }) => !earlier.has(keyOf(input)));
      let room = fresh.length;
      if (maxQueued > 0) {
        // Counting at most `maxQueued` rows, on documents_queued_tenant_idx.
        const [queued]: { count: number }[] = await manager.query(
          `SELECT count(*)::int AS count
           FROM (SELECT 1 FROM documents WHERE tenant = $1 AND status = $2 LIMIT $3) AS q`,
          [tenant, DocumentStatus.Queued, maxQueued],
        );
        room = Math.max(0, Math.min(room, maxQueued - (queued?.count ?? 0)));
      }
      const candidates = fresh.slice(0, room);
      // DO NOTHING only on the (tenant, api_key_id, idempotency_key) unique index: ids are fresh
      // UUIDs. It also drops a key repeated within the batch, and one a concurrent upload took.
      const inserted: { id: string }[] =
        candidates.length === 0
          ? []
          : await manager.query(
              `INSERT INTO documents (id, collection, title, status, size_bytes, mime_type, content_sha256, metadata,
                                      idempotency_key, api_key_id, tenant)
               SELECT d.id, d.collection, d.title, $2, d.size_bytes, d.mime_type, d.content_sha256, d.metadata,
                      d.idempotency_key, d.api_key_id, $3
               FROM jsonb_to_recordset($1::jsonb) AS d(
                      id uuid, collection text, title text, size_bytes int, mime_type text, content_sha256 text,
                      metadata jsonb, idempotency_key text, api_key_id uuid)
               ON CONFLICT DO NOTHING
               RETURNING id`,
              [
                JSON.stringify(
                  candidates.map(({ input }) => ({
                    id: input.id,
                    collection: input.collection,
                    title: input.title,
                    size_bytes: input.sizeBytes,
                    mime_type: input.mimeType,
                    content_sha256: input.contentSha256,
                    metadata: input.metadata,
                    idempotency_key: input.idempotencyKey,
                    api_key_id: input.apiKeyId,
                  })),
                ),
                DocumentStatus.Queued,
                tenant,
              ],
            );
      const created = new Set(inserted.map((row) => row.id));
      const stored = candidates.filter(({ input }) => created.has(input.id));
      if (stored.length > 0) {
        await manager.query(
          `INSERT INTO document_contents (document_id, body) SELECT * FROM unnest($1::uuid[], $2::bytea[])`,
          [stored.map(({ input }) => input.id), stored.map(({ body }) => body)],
        );
      }
      // Keys that were taken while we inserted (within the batch or by a concurrent upload).
      const lost = candidates.filter(({ input }) => !created.has(input.id) && input.idempotencyKey !== null);
      const taken = await this.findByIdempotencyKeys(manager, tenant, lost);
      const toldToWait = new Set(fresh.slice(room).map(({ input }) => input.id));
      return uploads.map(({ input }): BatchOutcome => {
        if (created.has(input.id)) return { kind: 'created', id: input.id };
        const repeat = earlier.get(keyOf(input)) ?? taken.get(keyOf(input));
        if (repeat !== undefined) return { kind: 'repeat', document: repeat };
        if (toldToWait.has(input.id)) return { kind: 'full' };
        // Only a key repeated or taken can lose the insert, and it is then found above.
        throw new Error(`document ${input.id} was neither stored nor found by its idempotency key`);
      });
    });
  }

  /** The documents already holding the uploads' idempotency keys (for their API keys), by `keyOf`. */
  private async findByIdempotencyKeys(
    manager: EntityManager,
    tenant: TenantId,
    uploads: readonly { input: NewDocument }[],
  ): Promise<Map<string, DocumentEntity>> {
    const keyed = uploads.filter(({ input }) => input.idempotencyKey !== null);
    if (keyed.length === 0) return new Map();
    const found = await manager
      .getRepository(DocumentEntity)
      .createQueryBuilder('d')
      .where('d.tenant = :tenant', { tenant })
      .andWhere('d.idempotency_key IN (:...keys)', { keys: keyed.map(({ input }) => input.idempotencyKey) })
      .getMany();
    return new Map(
      found.map((document) => [
        keyOf({ apiKeyId: document.apiKeyId, idempotencyKey: document.idempotencyKey }),
        document,
      ]),
    );
  }

  findById(tenant: TenantId, id: string): Promise<DocumentEntity | null> {
    return this.dataSource.getRepository(DocumentEntity).findOneBy({ tenant, id });
  }

  /** Newest first, keyset-paginated on (created_at, id); fetches one extra row to know whether a next page exists. */
  async list(
    tenant: TenantId,
    filter: DocumentListFilter,
  ): Promise<{ items: DocumentEntity[]; hasMore: boolean }> {
    const query = this.dataSource
      .getRepository(DocumentEntity)
      .createQueryBuilder('d')
      .where('d.tenant = :tenant', { tenant })
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(filter.limit + 1);
    if (filter.collection !== undefined)
      query.andWhere('d.collection = :collection', { collection: filter.collection });
    if (filter.status !== undefined) query.andWhere('d.status = :status', { status: filter.status });
    if (filter.after !== undefined) {
      query.andWhere('(d.created_at, d.id) < (:createdAt, :id)', filter.after);
    }
    const rows = await query.getMany();
    return { items: rows.slice(0, filter.limit), hasMore: rows.length > filter.limit };
  }

  /** Deletes the document; its upload, chunks and postings go with it (cascade). */
  async delete(tenant: TenantId, id: string): Promise<boolean> {
    const result = await this.dataSource.getRepository(DocumentEntity).delete({ tenant, id });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Starts an ingest attempt for each document and reads what it needs, in one statement for the
   * whole group: marks it `processing` (progress 10: loaded, attempts + 1) and returns its type,
   * metadata and upload. A document deleted meanwhile is absent from the answer; one whose upload
   * is missing comes with `body: null`.
   */
  async claimForIngest(documents: readonly DocumentRef[]): Promise<Map<string, ClaimedDocument>> {
    const rows: { id: string; mime_type: string; metadata: Record<string, unknown>; body: Buffer | null }[] =
      await this.dataSource.query(
        `WITH claimed AS (
           UPDATE documents d
           SET status = $3, progress = 10, error = NULL, attempts = d.attempts + 1, written_at = NULL,
               updated_at = now()
           FROM unnest($1::uuid[], $2::text[]) AS w(id, tenant)
           WHERE d.id = w.id AND d.tenant = w.tenant
           RETURNING d.id, d.mime_type, d.metadata
         )
         SELECT c.id, c.mime_type, c.metadata, u.body
         FROM claimed c LEFT JOIN document_contents u ON u.document_id = c.id`,
        [
          documents.map((document) => document.id),
          documents.map((document) => document.tenant),
          DocumentStatus.Processing,
        ],
      );
    return new Map(
      rows.map((row) => [row.id, { mimeType: row.mime_type, metadata: row.metadata, body: row.body }]),
    );
  }

  /**
   * Ends an attempt that will be retried: back to `queued`, keeping the error for operators.
   * Only a document still in `processing` changes (not one indexed or deleted meanwhile).
   */
  async markRetrying(tenant: TenantId, id: string, error: string): Promise<void> {
    await this.dataSource
      .getRepository(DocumentEntity)
      .update(
        { tenant, id, status: DocumentStatus.Processing },
        { status: DocumentStatus.Queued, error: error.slice(0, 2000), writtenAt: null },
      );
  }

  /**
   * Gives up on a document that is still waiting for its index (`queued` or `processing`); one
   * indexed meanwhile stays indexed. Returns false when nothing changed.
   */
  async markFailed(tenant: TenantId, id: string, error: string): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(DocumentEntity)
      .update(
        { tenant, id, status: In(PENDING_STATUSES) },
        { status: DocumentStatus.Failed, error: error.slice(0, 2000), writtenAt: null },
      );
    return (result.affected ?? 0) > 0;
  }

  /**
   * A page of documents whose chunks are written and which have waited for publication for
   * `staleForMs` (the worker that wrote them died or could not publish), oldest first, after
   * `cursor`, for the reconciler to publish (ADR 0030).
   */
  async findUnpublished(
    staleForMs: number,
    limit: number,
    cursor?: UnpublishedDocument,
  ): Promise<UnpublishedDocument[]> {
    const rows: UnpublishedDocument[] = await this.dataSource.query(
      `SELECT tenant, id, written_at::text AS "writtenAt"
         FROM documents
         WHERE written_at IS NOT NULL -- literally the predicate of documents_unpublished_idx
           AND status = $1
           AND written_at < now() - make_interval(secs => $2)
           AND ($3::timestamptz IS NULL OR (written_at, id) > ($3::timestamptz, $4::uuid))
         ORDER BY written_at, id
         LIMIT $5`,
      [DocumentStatus.Processing, staleForMs / 1000, cursor?.writtenAt ?? null, cursor?.id ?? null, limit],
    );
    return rows;
  }

  /**
   * A page of documents that should have a live ingest job and have not changed for `staleForMs`,
   * oldest first, after `cursor` (the previous page's last row). `version` is `updated_at` at full
   * precision, for `claimStale`. Across every tenant: this is the reconciler's maintenance pass, and
   * each row carries its tenant for the calls that follow.
   */
  async findStalePending(
    staleForMs: number,
    limit: number,
    cursor?: StalePendingDocument,
  ): Promise<StalePendingDocument[]> {
    const rows: StalePendingDocument[] = await this.dataSource.query(
      `SELECT tenant, id, updated_at::text AS version
         FROM documents
         WHERE status IN ('queued', 'processing') -- literally the predicate of documents_pending_idx
           AND written_at IS NULL -- a written document's job is done: it waits for publication
           AND updated_at < now() - make_interval(secs => $1)
           AND ($2::timestamptz IS NULL OR (updated_at, id) > ($2::timestamptz, $3::uuid))
         ORDER BY updated_at, id
         LIMIT $4`,
      [staleForMs / 1000, cursor?.version ?? null, cursor?.id ?? null, limit],
    );
    return rows;
  }

  /**
   * Compare-and-set on `updated_at`: touches the document only if nobody changed it since it was
   * read. Of several reconcilers looking at the same stale document, exactly one gets true.
   */
  async claimStale(document: StalePendingDocument): Promise<boolean> {
    const result: [unknown[], number] = await this.dataSource.query(
      `UPDATE documents SET updated_at = now()
       WHERE id = $1 AND updated_at = $2::timestamptz AND status = ANY($3) AND tenant = $4`,
      [document.id, document.version, PENDING_STATUSES, document.tenant],
    );
    return result[1] > 0;
  }
}
