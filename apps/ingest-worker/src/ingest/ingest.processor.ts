import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  DEFAULT_TENANT,
  isTenantId,
  type IngestDocumentPayload,
  type IngestDocumentResult,
  type TenantId,
} from '#libs/contracts';
import { CorpusEvents } from '#libs/corpus';
import { DocumentsRepository, isDatabaseUnavailable } from '#libs/database';
import { disconnectWhileRedisIsDown } from '#libs/queues';
import type { Logger } from '#libs/observability';
import { IndexPublisher } from './index-publisher.js';
import { IngestDocumentService } from './ingest-document.service.js';

export type IngestJob = Job<IngestDocumentPayload, IngestDocumentResult>;

/** A finished job's progress; the document's own is written with its grouped steps (ADR 0027). */
const JOB_DONE_PROGRESS = 100;
/** How long a job waits when Postgres could not be reached, before it tries again. */
const DATABASE_RETRY_DELAY_MS = 2_000;
/**
 * The most a stopping worker waits to publish what its last jobs wrote. Past it (Redis or
 * Postgres down) the documents stay written, and a reconciler publishes them (ADR 0030).
 */
const SHUTDOWN_PUBLISH_WAIT_MS = 5_000;

/**
 * The BullMQ side of ingestion: runs IngestDocumentService for each job and keeps the document's
 * status truthful when an attempt fails. It is registered by IngestModule, which applies
 * `@Processor(QueueName.Ingest, ...)` with the configured concurrency and lock duration.
 */
export class IngestProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly ingest: IngestDocumentService,
    private readonly publisher: IndexPublisher,
    private readonly documents: DocumentsRepository,
    private readonly corpusEvents: CorpusEvents,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** The worker is created with autorun off: consume only once every module is up. */
  onApplicationBootstrap(): void {
    // run() settles only when the worker closes.
    this.worker.run().catch((error: Error) => this.logger.error({ err: error }, 'ingest worker stopped'));
  }

  /**
   * Drains: waits for the jobs in hand while the database and Redis are still open (unless Redis
   * is down), then publishes the documents they wrote, so they need not wait for a reconciler.
   */
  async beforeApplicationShutdown(): Promise<void> {
    disconnectWhileRedisIsDown([this.worker]);
    await this.worker.close();
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      this.publisher.stop(),
      new Promise((resolve) => (timeout = setTimeout(resolve, SHUTDOWN_PUBLISH_WAIT_MS))),
    ]);
    clearTimeout(timeout);
  }

  async process(job: IngestJob, token?: string): Promise<IngestDocumentResult> {
    const started = performance.now();
    const { documentId, requestId } = job.data;
    const tenant = tenantOf(job);
    const log = this.logger.child({
      jobId: job.id,
      tenant,
      documentId,
      requestId,
      attempt: job.attemptsMade + 1,
    });
    log.info('ingesting document');
    try {
      const chunkCount = await this.ingest.ingest(tenant, documentId);
      await job.updateProgress(JOB_DONE_PROGRESS);
      const durationMs = Math.round(performance.now() - started);
      if (chunkCount === null) log.info({ durationMs }, 'document was deleted; nothing to index');
      else log.info({ chunkCount, durationMs }, 'chunks written; the document waits for publication');
      return { documentId, chunkCount: chunkCount ?? 0, durationMs };
    } catch (error) {
      if (isDatabaseUnavailable(error) && token !== undefined) {
        // Postgres is down: the attempt says nothing about the document. Wait and try again
        // without spending an attempt, so an outage longer than the retry backoff (1 s, 2 s)
        // cannot fail documents that were accepted.
        log.warn({ err: error }, 'database unavailable; the job waits and tries again');
        await job.moveToDelayed(Date.now() + DATABASE_RETRY_DELAY_MS, token);
        throw new DelayedError();
      }
      await this.recordFailure(job, error, log);
      throw error;
    }
  }

  /** Without a listener, an 'error' event (e.g. Redis unreachable) would crash the process. */
  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    this.logger.error({ err: error }, 'ingest worker error');
  }

  /**
   * The last attempt (or an unreadable upload) leaves the document `failed` with a readable reason;
   * an attempt BullMQ will retry puts it back to `queued` with the error so far. If even this
   * bookkeeping fails (database down), the reconciler settles the document later from the job state.
   */
  private async recordFailure(job: IngestJob, error: unknown, log: Logger): Promise<void> {
    const { documentId } = job.data;
    const tenant = tenantOf(job);
    const attempts = job.opts.attempts ?? 1;
    const attempt = job.attemptsMade + 1;
    const permanent = error instanceof UnrecoverableError;
    const reason = error instanceof Error ? error.message : String(error);
    try {
      if (permanent) {
        log.warn({ reason }, 'document cannot be indexed');
        if (await this.documents.markFailed(tenant, documentId, reason)) {
          await this.corpusEvents.corpusChanged(tenant, 'failed', documentId);
        }
      } else if (attempt >= attempts) {
        log.error({ err: error }, 'indexing failed on the last attempt');
        const message = `Indexing failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`;
        if (await this.documents.markFailed(tenant, documentId, message)) {
          await this.corpusEvents.corpusChanged(tenant, 'failed', documentId);
        }
      } else {
        log.warn({ err: error }, 'indexing failed; will retry');
        await this.documents.markRetrying(
          tenant,
          documentId,
          `Attempt ${attempt} of ${attempts} failed: ${reason}`,
        );
      }
    } catch (bookkeepingError) {
      log.error({ err: bookkeepingError }, 'could not record the failure; the reconciler will');
    }
  }
}

/**
 * Jobs queued before tenants existed carry no tenant, and their documents all moved to `default`
 * (migration 1764400000000); anything else that is not a tenant name cannot be trusted with data.
 */
function tenantOf(job: IngestJob): TenantId {
  const tenant: unknown = (job.data as Partial<IngestDocumentPayload>).tenant;
  if (tenant === undefined) return DEFAULT_TENANT;
  if (!isTenantId(tenant)) throw new UnrecoverableError(`job ${job.id} carries an invalid tenant`);
  return tenant;
}
