import { createHash, randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { LRUCache } from 'lru-cache';
import { CorpusEvents } from '#libs/corpus';
import { JobName, QueueName, type TenantId } from '#libs/contracts';
import {
  DocumentsRepository,
  type DocumentEntity,
  type DocumentListFilter,
  type NewDocument,
} from '#libs/database';
import { JobProducer } from '#libs/queues';
import { RetryLaterException } from '../http/retry-later.exception.js';
import { decodeCursor, encodeCursor } from './document-cursor.js';
import type { BatchLine } from './batch-reader.js';
import type {
  AcceptedDocumentResponse,
  BatchLineResult,
  BatchUploadResponse,
  DocumentListResponse,
  DocumentResponse,
  DocumentSummary,
} from './dto/document.responses.js';
import { DEFAULT_PAGE_SIZE, type ListDocumentsQuery } from './dto/list-documents.query.js';
import type { Upload } from './upload-reader.js';
import { withTimeout } from './with-timeout.js';

/** API.md: "an upload, an indexing or a delete is visible within a second" in the cached list. */
const LIST_CACHE_TTL_MS = 1_000;
const LIST_CACHE_ENTRIES = 1_000;
/** Redis calls after the commit are best effort; they must not hold the answer for long. */
const REDIS_SIDE_EFFECT_TIMEOUT_MS = 2_000;
const DATABASE_RETRY_AFTER_S = 5;
// Short: the tenant's own queue keeps the workers busy meanwhile, and a longer wait could leave them idle
// once a fast deployment drains the cap within it.
const TENANT_BACKLOG_RETRY_AFTER_S = 1;

export interface UploadContext {
  apiKeyId: string;
  idempotencyKey: string | null;
  requestId: string;
}

@Injectable()
export class DocumentsService {
  private readonly logger = new Logger(DocumentsService.name);
  /**
   * Holds the promise, not the page: concurrent identical list requests share one query, and
   * clearing the cache on this process's own writes drops in-flight results too.
   */
  private readonly listCache = new LRUCache<string, Promise<DocumentListResponse>>({
    max: LIST_CACHE_ENTRIES,
    ttl: LIST_CACHE_TTL_MS,
  });

  private readonly maxQueuedPerTenant: number;

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly jobs: JobProducer,
    private readonly corpusEvents: CorpusEvents,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.maxQueuedPerTenant = config.INGEST_MAX_QUEUED_PER_TENANT;
  }

  /**
   * Commits the row and bytes first, then queues the job: once this answers, the upload is in
   * Postgres, and the ingest worker's reconciler queues it if the enqueue below was lost.
   */
  async create(
    tenant: TenantId,
    upload: Upload,
    context: UploadContext,
  ): Promise<{ created: boolean; document: AcceptedDocumentResponse }> {
    const id = randomUUID();
    const stored = await unavailableOnFailure(
      this.documents.createQueued(
        tenant,
        newDocument(id, upload, context.idempotencyKey, context.apiKeyId),
        upload.body,
        this.maxQueuedPerTenant,
      ),
      'the upload was not stored',
    );
    if (stored === null) {
      // A cap per tenant, not a shared one: one tenant's bulk load waits on itself and cannot put
      // more than the cap ahead of another tenant's documents (docs/adr/0010-ingest-fairness-by-tenant-cap.md).
      throw new RetryLaterException(
        429,
        `ingest backlog: this tenant already has ${this.maxQueuedPerTenant} documents queued (INGEST_MAX_QUEUED_PER_TENANT); nothing was stored`,
        TENANT_BACKLOG_RETRY_AFTER_S,
      );
    }
    const { document, created } = stored;
    if (created) {
      this.listCache.clear();
      await withTimeout(
        this.jobs.enqueue(
          JobName.IngestDocument,
          { tenant, documentId: id, requestId: context.requestId },
          { jobId: id },
        ),
        REDIS_SIDE_EFFECT_TIMEOUT_MS,
        'enqueue',
      ).catch((error: Error) =>
        this.logger.warn(
          `document ${id} stored but not queued (the reconciler will queue it): ${error.message}`,
        ),
      );
    }
    return {
      created,
      document: {
        id: document.id,
        status: document.status,
        collection: document.collection,
        status_url: statusUrl(document.id),
      },
    };
  }

  /**
   * The batch route's `create`: stores every valid line in one transaction, then queues their
   * jobs in one Redis round trip. The same promises hold for each line: once this answers 202 for
   * it, it is in Postgres (the reconciler queues it if the enqueue was lost). Lines refused by the
   * tenant's cap are 429 with nothing stored; invalid lines keep the 4xx they came with.
   */
  async createMany(
    tenant: TenantId,
    lines: readonly BatchLine[],
    context: Omit<UploadContext, 'idempotencyKey'>,
  ): Promise<BatchUploadResponse> {
    const valid = lines.filter((line) => 'upload' in line);
    const uploads = valid.map(({ upload, idempotencyKey }) => ({
      input: newDocument(randomUUID(), upload, idempotencyKey, context.apiKeyId),
      body: upload.body,
    }));
    const outcomes =
      uploads.length === 0
        ? []
        : await unavailableOnFailure(
            this.documents.createQueuedMany(tenant, uploads, this.maxQueuedPerTenant),
            'nothing was stored',
          );
    const created: string[] = [];
    let next = 0;
    const results = lines.map((line): BatchLineResult => {
      if (!('upload' in line)) return { line: line.line, status: line.status, message: line.message };
      const outcome = outcomes[next++];
      if (outcome?.kind === 'created') {
        created.push(outcome.id);
        return { line: line.line, status: 202, id: outcome.id, status_url: statusUrl(outcome.id) };
      }
      if (outcome?.kind === 'repeat') {
        const { id } = outcome.document;
        return { line: line.line, status: 200, id, status_url: statusUrl(id) };
      }
      return {
        line: line.line,
        status: 429,
        message: `ingest backlog: this tenant already has ${this.maxQueuedPerTenant} documents queued (INGEST_MAX_QUEUED_PER_TENANT); nothing was stored for this line`,
      };
    });
    if (created.length > 0) {
      this.listCache.clear();
      await withTimeout(
        this.jobs.enqueueMany(
          JobName.IngestDocument,
          created.map((id) => ({
            payload: { tenant, documentId: id, requestId: context.requestId },
            options: { jobId: id },
          })),
        ),
        REDIS_SIDE_EFFECT_TIMEOUT_MS,
        'enqueue',
      ).catch((error: Error) =>
        this.logger.warn(
          `${created.length} documents stored but not queued (the reconciler will queue them): ${error.message}`,
        ),
      );
    }
    return {
      accepted: created.length,
      repeated: results.filter((result) => result.status === 200).length,
      rejected: results.filter((result) => result.status >= 400).length,
      results,
    };
  }

  async get(tenant: TenantId, id: string): Promise<DocumentResponse> {
    // Another tenant's document is not found, exactly like a missing one: its existence is not revealed.
    const document = await unavailableOnFailure(this.documents.findById(tenant, id), 'try again');
    if (document === null) throw new NotFoundException(`id: no document ${id}`);
    return {
      ...toSummary(document),
      progress: document.progress,
      mime_type: document.mimeType,
      error: document.error,
      metadata: document.metadata,
      updated_at: document.updatedAt.toISOString(),
    };
  }

  list(tenant: TenantId, query: ListDocumentsQuery): Promise<DocumentListResponse> {
    const filter: DocumentListFilter = {
      collection: query.collection,
      status: query.status,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
    };
    if (query.cursor !== undefined) {
      filter.after = decodeCursor(query.cursor);
      if (filter.after === undefined)
        throw new BadRequestException('cursor: is not a cursor from a previous page');
    }
    const key = JSON.stringify([tenant, filter.collection, filter.status, filter.limit, query.cursor]);
    let page = this.listCache.get(key);
    if (page === undefined) {
      page = this.fetchPage(tenant, filter);
      this.listCache.set(key, page);
      // A failure is not cached: the next request tries again.
      page.catch(() => {
        if (this.listCache.get(key) === page) this.listCache.delete(key);
      });
    }
    return page;
  }

  /** Deletes the row (chunks and postings cascade), drops a pending job, then retires cached answers. */
  async delete(tenant: TenantId, id: string): Promise<void> {
    const deleted = await unavailableOnFailure(this.documents.delete(tenant, id), 'nothing was deleted');
    if (!deleted) throw new NotFoundException(`id: no document ${id}`);
    this.listCache.clear();
    // An active job cannot be removed; the worker finds the row gone and stops.
    await withTimeout(
      this.jobs.queue(QueueName.Ingest).remove(id),
      REDIS_SIDE_EFFECT_TIMEOUT_MS,
      'job removal',
    ).catch((error: Error) =>
      this.logger.warn(`document ${id} deleted; its ingest job was not removed: ${error.message}`),
    );
    await withTimeout(
      this.corpusEvents.corpusChanged(tenant, 'deleted', id),
      REDIS_SIDE_EFFECT_TIMEOUT_MS,
      'corpus version bump',
    ).catch((error: Error) =>
      this.logger.error(
        `document ${id} deleted; cached answers may cite it until they expire: ${error.message}`,
      ),
    );
  }

  private async fetchPage(tenant: TenantId, filter: DocumentListFilter): Promise<DocumentListResponse> {
    const { items, hasMore } = await unavailableOnFailure(this.documents.list(tenant, filter), 'try again');
    const last = items.at(-1);
    return {
      items: items.map(toSummary),
      next_cursor:
        hasMore && last !== undefined ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
    };
  }
}

/** The stored row of an upload, single or from a batch line. */
function newDocument(
  id: string,
  upload: Upload,
  idempotencyKey: string | null,
  apiKeyId: string | null,
): NewDocument {
  return {
    id,
    collection: upload.collection,
    title: upload.title,
    sizeBytes: upload.body.length,
    mimeType: upload.mimeType,
    contentSha256: createHash('sha256').update(upload.body).digest('hex'),
    metadata: upload.metadata,
    idempotencyKey,
    apiKeyId,
  };
}

function statusUrl(id: string): string {
  return `/documents/${id}`;
}

function toSummary(document: DocumentEntity): DocumentSummary {
  return {
    id: document.id,
    title: document.title,
    collection: document.collection,
    status: document.status,
    chunk_count: document.chunkCount,
    size_bytes: document.sizeBytes,
    created_at: document.createdAt.toISOString(),
    indexed_at: document.indexedAt?.toISOString() ?? null,
  };
}

/** A database failure is the server's problem, not the client's: 503 with Retry-After. */
async function unavailableOnFailure<T>(operation: Promise<T>, consequence: string): Promise<T> {
  try {
    return await operation;
  } catch (error: unknown) {
    new Logger(DocumentsService.name).error(`database operation failed: ${(error as Error).message}`);
    throw new RetryLaterException(503, `database unavailable; ${consequence}`, DATABASE_RETRY_AFTER_S);
  }
}
