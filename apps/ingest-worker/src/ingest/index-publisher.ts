import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { TenantId } from '#libs/contracts';
import { CorpusEvents } from '#libs/corpus';
import { ChunkIndexRepository } from '#libs/database';
import type { Logger } from '#libs/observability';
import { AnswerWarmer } from './answer-warmer.js';
import { INGEST_LOGGER } from './ingest-logger.js';

/**
 * Publishes documents whose chunks are written, a batch at a time (ADR 0026). Each publication
 * bumps the tenant's corpus version once for every document of the batch, so a steady trickle of
 * uploads retires cached answers at most once per INGEST_PUBLISH_INTERVAL_MS instead of once per
 * document. The order keeps API.md's promise that a document is visible to queries from the
 * moment its status says `indexed`:
 *   1. its chunks are committed, with `written_at` set (searchable by any query keyed with a newer version);
 *   2. a new version is reserved, and the tenant's hot questions answered under it (ADR 0031);
 *   3. the version is published and `corpus.changed` told to every gateway;
 *   4. only then is it marked `indexed` (and `written_at` cleared).
 * Step 1 ends the ingest job (ADR 0030): nothing here is held by a job. Between 1 and 4 the
 * document waits in Postgres, so when this process dies or cannot publish, any worker's
 * reconciler publishes it (IngestReconciler).
 */
@Injectable()
export class IndexPublisher {
  private readonly intervalMs: number;
  private readonly waiting = new Map<TenantId, Set<string>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly corpusEvents: CorpusEvents,
    private readonly chunkIndex: ChunkIndexRepository,
    private readonly warmer: AnswerWarmer,
    @Inject(INGEST_LOGGER) private readonly logger: Logger,
  ) {
    this.intervalMs = config.INGEST_PUBLISH_INTERVAL_MS;
  }

  /** Publishes the document with the next batch (within one interval); its chunks must be committed. */
  schedule(tenant: TenantId, documentId: string): void {
    const batch = this.waiting.get(tenant) ?? new Set();
    batch.add(documentId);
    this.waiting.set(tenant, batch);
    // The first document of a batch waits at most one interval; later ones less.
    if (!this.stopped) this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /**
   * Publishes these documents now: one new version, then `indexed`. Returns the ids marked; a
   * document deleted, already published or claimed by a new attempt meanwhile is left out.
   */
  async publish(tenant: TenantId, documentIds: readonly string[]): Promise<string[]> {
    const version = await this.corpusEvents.reserveVersion(tenant);
    await this.warm(tenant, version);
    await this.corpusEvents.documentsIndexed(tenant, version, documentIds);
    return this.chunkIndex.markIndexed(tenant, documentIds);
  }

  /** Warming only saves misses: a failure to warm never holds a publication back. */
  private async warm(tenant: TenantId, version: number): Promise<void> {
    try {
      const { asked, stored } = await this.warmer.warm(tenant, version);
      if (asked > 0) this.logger.debug({ tenant, version, asked, stored }, 'hot answers computed ahead');
    } catch (error) {
      this.logger.warn(
        { err: error, tenant, version },
        'computing hot answers ahead failed; publishing anyway',
      );
    }
  }

  /**
   * Publishes what is waiting, once, and schedules nothing more: called when the worker stops,
   * after its last jobs have written their chunks. What fails stays written for a reconciler.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
  }

  private async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.waiting];
    this.waiting.clear();
    await Promise.all(
      batches.map(async ([tenant, batch]) => {
        try {
          await this.publish(tenant, [...batch]);
        } catch (error) {
          // Redis or Postgres is down: the documents stay written (durably, in Postgres) and are
          // tried again with the next batch; a reconciler publishes them if this process dies first.
          this.logger.warn({ err: error, tenant, documents: batch.size }, 'publication failed; will retry');
          for (const id of batch) this.schedule(tenant, id);
        }
      }),
    );
  }
}
