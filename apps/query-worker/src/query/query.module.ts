import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { configuredProcessor } from '#libs/queues';
import { AnswerService, RetrievalModule } from '#libs/retrieval';
import { AnswerQueryProcessor } from './answer-query.processor.js';

@Module({
  imports: [RetrievalModule],
  providers: [
    {
      provide: AnswerQueryProcessor,
      inject: [AnswerService, APP_CONFIG],
      useFactory: (answers: AnswerService, config: AppConfig) => {
        const ConfiguredAnswerQueryProcessor = configuredProcessor(
          AnswerQueryProcessor,
          QueueName.Query,
          config,
        );
        return new ConfiguredAnswerQueryProcessor(answers, config);
      },
    },
  ],
})
export class QueryModule {}
