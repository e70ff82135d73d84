import { Processor } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { CorpusEvents } from '#libs/corpus';
import { DocumentsRepository } from '#libs/database';
import type { Logger } from '#libs/observability';
import { queueSettings } from '#libs/queues';
import { IngestDocumentService } from './ingest-document.service.js';
import { INGEST_LOGGER } from './ingest-logger.js';
import { IngestProcessor } from './ingest.processor.js';
import { IngestReconciler } from './ingest-reconciler.js';

/**
 * `@Processor` options are read once, when @nestjs/bullmq creates the Worker, and a decorator on the
 * class could only hold constants. Decorating a per-app subclass here puts the configured
 * concurrency and lock duration into the Worker's constructor options — the lock renewal timer
 * copies them there, so setting them on the worker afterwards would not reach it.
 */
function createIngestProcessor(
  config: AppConfig,
  ingest: IngestDocumentService,
  documents: DocumentsRepository,
  corpusEvents: CorpusEvents,
  logger: Logger,
): IngestProcessor {
  const settings = queueSettings(config)[QueueName.Ingest];
  @Processor(QueueName.Ingest, {
    autorun: false,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
  })
  class ConfiguredIngestProcessor extends IngestProcessor {}
  return new ConfiguredIngestProcessor(ingest, documents, corpusEvents, logger);
}

/** Ingestion: the processor for the "ingest" queue and the reconciler that re-queues lost jobs. */
@Module({})
export class IngestModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: IngestModule,
      providers: [
        { provide: INGEST_LOGGER, useValue: logger },
        IngestDocumentService,
        IngestReconciler,
        {
          provide: IngestProcessor,
          inject: [APP_CONFIG, IngestDocumentService, DocumentsRepository, CorpusEvents, INGEST_LOGGER],
          useFactory: createIngestProcessor,
        },
      ],
      exports: [IngestReconciler],
    };
  }
}
