import { Logger, Module } from '@nestjs/common';
import { AnswerCacheModule, AnswerStore } from '#libs/answer-cache';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { CorpusVersion } from '#libs/corpus';
import { ReadReplica } from '#libs/database';
import { configuredProcessor } from '#libs/queues';
import { AnswerService, DEFAULT_BM25, RetrievalModule, Retriever } from '#libs/retrieval';
import { AnswerQueryProcessor } from './answer-query.processor.js';
import { ReadRouting } from './read-routing.js';

const logger = new Logger('ReadReplica');

@Module({
  imports: [RetrievalModule, AnswerCacheModule],
  providers: [
    CorpusVersion,
    {
      provide: ReadRouting,
      inject: [AnswerService, CorpusVersion, APP_CONFIG],
      useFactory: (primary: AnswerService, version: CorpusVersion, config: AppConfig) => {
        const replicas = config.DATABASE_REPLICA_URLS.map((url) => {
          const replica = new ReadReplica(url, {
            poolSize: config.DATABASE_POOL_SIZE,
            applicationName: 'rag-gateway:query-worker',
            onIdleError: (error) =>
              logger.warn(`idle connection to ${replica.name} failed: ${error.message}`),
          });
          return {
            replica,
            answers: new AnswerService(new Retriever(replica.search, DEFAULT_BM25), replica.search),
          };
        });
        return new ReadRouting(primary, replicas, {
          maxWaitMs: config.DATABASE_REPLICA_MAX_WAIT_MS,
          recordedWalLsn: () => version.recordedWalLsn(),
        });
      },
    },
    {
      provide: AnswerQueryProcessor,
      inject: [ReadRouting, AnswerStore, APP_CONFIG],
      useFactory: (reads: ReadRouting, answers: AnswerStore, config: AppConfig) => {
        const ConfiguredAnswerQueryProcessor = configuredProcessor(
          AnswerQueryProcessor,
          QueueName.Query,
          config,
        );
        return new ConfiguredAnswerQueryProcessor(reads, answers, config);
      },
    },
  ],
  exports: [ReadRouting],
})
export class QueryModule {}
