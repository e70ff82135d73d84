import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, type AppConfig } from '#libs/config';
import { CorpusModule } from '#libs/corpus';
import { DatabaseModule } from '#libs/database';
import { QueuesModule } from '#libs/queues';
import { RedisModule } from '#libs/redis';
import { AuthModule } from './auth/auth.module.js';
import { CorpusSubscriberModule } from './corpus/corpus-subscriber.module.js';
import { DocumentsModule } from './documents/documents.module.js';
import { HealthModule } from './health/health.module.js';
import { HttpModule } from './http/http.module.js';
import { MetricsModule, type MetricsModuleOptions } from './metrics/metrics.module.js';
import { QueryModule } from './query/query.module.js';

@Module({})
export class GatewayModule {
  static forRoot(config: AppConfig, options: MetricsModuleOptions = { clusterWorker: false }): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot('rag-gateway:gateway'),
        RedisModule,
        QueuesModule.forRoot({ producerOnly: true }),
        CorpusModule,
        HttpModule,
        AuthModule,
        HealthModule,
        DocumentsModule,
        MetricsModule.forRoot(options),
        CorpusSubscriberModule,
        QueryModule,
      ],
    };
  }
}
