import { Module } from '@nestjs/common';
import { SearchRepository } from '#libs/database';
import { AnswerService } from './answer.service.js';
import { DEFAULT_BM25, Retriever } from './retriever.js';

/** Needs DatabaseModule (global) for SearchRepository. */
@Module({
  providers: [
    {
      provide: Retriever,
      inject: [SearchRepository],
      useFactory: (search: SearchRepository) => new Retriever(search, DEFAULT_BM25),
    },
    AnswerService,
  ],
  exports: [Retriever, AnswerService],
})
export class RetrievalModule {}
