import { Module } from '@nestjs/common';
import { AnswerDemand } from './answer-demand.js';
import { AnswerStore } from './answer-store.js';

@Module({ providers: [AnswerDemand, AnswerStore], exports: [AnswerDemand, AnswerStore] })
export class AnswerCacheModule {}
