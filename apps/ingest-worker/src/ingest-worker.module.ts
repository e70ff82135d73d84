import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { CorpusModule } from '#libs/corpus';
import { DatabaseModule } from '#libs/database';
import type { Logger } from '#libs/observability';
import { QueuesModule } from '#libs/queues';
import { RedisModule } from '#libs/redis';
import { WorkerHttpModule } from '#libs/worker-http';
import { IngestModule } from './ingest/ingest.module.js';
import { IngestProcessor } from './ingest/ingest.processor.js';

@Module({})
export class IngestWorkerModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: IngestWorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot('rag-gateway:ingest-worker'),
        RedisModule,
        QueuesModule.forRoot({ producerOnly: false }),
        CorpusModule,
        IngestModule.forRoot(logger),
        WorkerHttpModule.forRoot({
          queue: QueueName.Ingest,
          consumer: IngestProcessor,
          app: 'ingest-worker',
        }),
      ],
    };
  }
}
