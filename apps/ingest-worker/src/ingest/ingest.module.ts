import { Module, type DynamicModule } from '@nestjs/common';
import { AnswerCacheModule } from '#libs/answer-cache';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { CorpusEvents } from '#libs/corpus';
import { DocumentsRepository } from '#libs/database';
import type { Logger } from '#libs/observability';
import { configuredProcessor } from '#libs/queues';
import { DocumentExtraction } from '../extraction/document-extraction.service.js';
import { AnswerWarmer } from './answer-warmer.js';
import { IngestBatches } from './ingest-batches.js';
import { IngestDocumentService } from './ingest-document.service.js';
import { IndexPublisher } from './index-publisher.js';
import { INGEST_LOGGER } from './ingest-logger.js';
import { IngestProcessor } from './ingest.processor.js';
import { IngestReconciler } from './ingest-reconciler.js';

function createIngestProcessor(
  config: AppConfig,
  ingest: IngestDocumentService,
  publisher: IndexPublisher,
  documents: DocumentsRepository,
  corpusEvents: CorpusEvents,
  logger: Logger,
): IngestProcessor {
  const ConfiguredIngestProcessor = configuredProcessor(IngestProcessor, QueueName.Ingest, config);
  return new ConfiguredIngestProcessor(ingest, publisher, documents, corpusEvents, logger);
}

/**
 * Ingestion: the processor for the "ingest" queue, the publisher of indexed documents (with the
 * answers it computes ahead) and the reconciler that re-queues lost jobs.
 */
@Module({})
export class IngestModule {
  static forRoot(logger: Logger): DynamicModule {
    return {
      module: IngestModule,
      imports: [AnswerCacheModule],
      providers: [
        AnswerWarmer,
        { provide: INGEST_LOGGER, useValue: logger },
        DocumentExtraction,
        IndexPublisher,
        IngestBatches,
        IngestDocumentService,
        IngestReconciler,
        {
          provide: IngestProcessor,
          inject: [
            APP_CONFIG,
            IngestDocumentService,
            IndexPublisher,
            DocumentsRepository,
            CorpusEvents,
            INGEST_LOGGER,
          ],
          useFactory: createIngestProcessor,
        },
      ],
      exports: [IngestReconciler],
    };
  }
}
