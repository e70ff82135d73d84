import { Module } from '@nestjs/common';
import { AnswerCacheModule } from '#libs/answer-cache';
import { QueryController } from './query.controller.js';
import { QueryResults } from './query-results.js';
import { QueryService } from './query.service.js';

@Module({
  imports: [AnswerCacheModule],
  controllers: [QueryController],
  providers: [QueryService, QueryResults],
})
export class QueryModule {}
