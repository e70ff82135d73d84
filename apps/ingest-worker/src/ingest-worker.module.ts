import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '#libs/config';
import { CorpusModule } from '#libs/corpus';
import { DatabaseModule } from '#libs/database';
import type { Logger } from '#libs/observability';
import { QueuesModule } from '#libs/queues';
import { RedisModule } from '#libs/redis';
import { IngestModule } from './ingest/ingest.module.js';

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
      ],
    };
  }
}
