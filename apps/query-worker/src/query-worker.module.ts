import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { DatabaseModule } from '#libs/database';
import { QueuesModule } from '#libs/queues';
import { RedisModule } from '#libs/redis';
import { WorkerHttpModule } from '#libs/worker-http';
import { AnswerQueryProcessor } from './query/answer-query.processor.js';
import { QueryModule } from './query/query.module.js';

@Module({})
export class QueryWorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: QueryWorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot('rag-gateway:query-worker'),
        RedisModule,
        QueuesModule.forRoot({ producerOnly: false }),
        QueryModule,
        WorkerHttpModule.forRoot({
          queue: QueueName.Query,
          consumer: AnswerQueryProcessor,
          app: 'query-worker',
        }),
      ],
    };
  }
}
