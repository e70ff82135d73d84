import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { TenantId } from '#libs/contracts';
import { CorpusEvents } from '#libs/corpus';
import { ChunkIndexRepository } from '#libs/database';
import { AnswerWarmer } from './answer-warmer.js';

interface Waiting {
  documentId: string;
  settle: (published: boolean) => void;
  fail: (error: unknown) => void;
}

/**
 * Publishes documents whose chunks are written, a batch at a time (issue 7, "a cache that
 * survives steady ingest"). Each publication bumps the tenant's corpus version once for every
 * document of the batch, so a steady trickle of uploads retires cached answers at most once per
 * INGEST_PUBLISH_INTERVAL_MS instead of once per document. The order keeps API.md's promise that
 * a document is visible to queries from the moment its status says `indexed`:
 *   1. its chunks are committed (searchable by any query keyed with a newer version);
 *   2. a new version is reserved, and the tenant's hot questions answered under it (ADR 0031);
 *   3. the version is published and `corpus.changed` told to every gateway;
 *   4. only then is it marked `indexed`.
 * A crash between 1 and 4 leaves it `processing`; its job is retried and publishes it then.
 */
@Injectable()
export class IndexPublisher {
  private readonly logger = new Logger(IndexPublisher.name);
  private readonly intervalMs: number;
  private readonly waiting = new Map<TenantId, Waiting[]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly corpusEvents: CorpusEvents,
    private readonly chunkIndex: ChunkIndexRepository,
    private readonly warmer: AnswerWarmer,
  ) {
    this.intervalMs = config.INGEST_PUBLISH_INTERVAL_MS;
  }

  /**
   * Resolves once the document is published and marked `indexed` (true), or found deleted
   * meanwhile (false); rejects when the publication failed (the job is retried).
   */
  publish(tenant: TenantId, documentId: string): Promise<boolean> {
    return new Promise((settle, fail) => {
      const batch = this.waiting.get(tenant) ?? [];
      batch.push({ documentId, settle, fail });
      this.waiting.set(tenant, batch);
      // The first document of a batch waits at most one interval; later ones less.
      this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
    });
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const batches = [...this.waiting];
    this.waiting.clear();
    await Promise.all(
      batches.map(async ([tenant, batch]) => {
        try {
          const ids = batch.map((entry) => entry.documentId);
          const version = await this.corpusEvents.reserveVersion(tenant);
          await this.warm(tenant, version);
          await this.corpusEvents.documentsIndexed(tenant, version, ids);
          const marked = new Set(await this.chunkIndex.markIndexed(tenant, ids));
          for (const entry of batch) entry.settle(marked.has(entry.documentId));
        } catch (error) {
          for (const entry of batch) entry.fail(error);
        }
      }),
    );
  }

  /** Warming only saves misses: a failure to warm never holds a publication back. */
  private async warm(tenant: TenantId, version: number): Promise<void> {
    try {
      const { asked, stored } = await this.warmer.warm(tenant, version);
      if (asked > 0) this.logger.debug(`version ${version}: ${stored} of ${asked} hot answers ready`);
    } catch (error) {
      this.logger.warn(`warming answers for version ${version} failed: ${(error as Error).message}`);
    }
  }
}
