import { Module } from '@nestjs/common';
import { RetrievalModule } from '#libs/retrieval';
import { AnswerQueryProcessor } from './answer-query.processor.js';

@Module({ imports: [RetrievalModule], providers: [AnswerQueryProcessor] })
export class QueryModule {}
